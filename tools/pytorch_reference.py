#!/usr/bin/env python3
"""PyTorch's side of clseg's speed comparison: clseg's five models rebuilt layer for layer in
PyTorch, timed the way `clseg bench train` times them (tools/cmd_bench_train.c).

Optional: clseg's build and tests never need Python. To use it, install PyTorch on the CPU, e.g.
in a virtual environment outside the repository:

    python3 -m venv ~/venv-torch
    ~/venv-torch/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    # (plain `pip install torch` works too; it also downloads the CUDA libraries)

torchvision is not needed. Then

    ~/venv-torch/bin/python tools/pytorch_reference.py --model unet --size 256 --batch 8 --steps 3
    ~/venv-torch/bin/python tools/pytorch_reference.py compare --clseg build/tools/clseg \\
        --models unet,linknet,convdeconv --sizes 128,256 --batch 8 --steps 3

What is measured, as in `clseg bench train`:
  - a training step: forward, BCE-with-logits + soft Dice over the whole batch (smooth 1,
    weights 1 and 1; the auto-encoder: MSE), backward, Adam (lr 1e-3) step, and the loss read
    back as a Python float; on synthetic B x 3 x S x S inputs, uniform in [0, 1), and masks
    (the first values of the input thresholded at 0.7, as clseg does; the auto-encoder's target
    is likewise its input thresholded, since clseg thresholds in place before uploading it);
  - train_step_s: the median of --steps timed steps after the first (warm-up) step;
  - infer_step_s: model.eval(), forward under torch.no_grad(), median of --steps after one
    warm-up forward;
  - first_step_s: from the model's construction to the end of the first training step (PyTorch
    has no kernel cache, so there is no cold/warm pair; importing torch is apart, in import_s);
  - peak_memory_bytes: the process's peak resident set size (getrusage ru_maxrss): host memory,
    the Python interpreter and PyTorch's libraries included. clseg reports the peak of its
    device buffers instead, so the two are comparable in size only roughly;
    baseline_memory_bytes is the peak before the model was built (the libraries' share).
    With --torch-device cuda it is the peak of PyTorch's CUDA allocations instead.

--torch-device cuda runs PyTorch on a GPU (a CUDA build of PyTorch), in float32 with TF32 off
(clseg computes in plain float32) and cuDNN's autotuner on; compare it with clseg on the same GPU
through OpenCL: `compare --device gpu --torch-device cuda`.

Each model asserts its parameter count equals clseg's (README.md's model table), so a layer that
drifts from src/models/*.c fails loudly.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict

MODELS = ("unet", "linknet", "convdeconv", "deeplabv3", "autoencoder")
# clseg's parameter counts at the default width, 3 input channels and 1 class.
CLSEG_PARAMS = {"convdeconv": 29435649, "unet": 7763041, "linknet": 11533313, "deeplabv3": 15898945,
                "autoencoder": 781891}
# src/models/registry.c: default base, inputs a multiple of, at least.
DEFAULTS = {"convdeconv": (64, 1, 32), "unet": (32, 16, 16), "linknet": (64, 32, 32), "deeplabv3": (64, 1, 1),
            "autoencoder": (32, 16, 16)}


def build_model(name, base=None, in_channels=3, classes=1):
    """The torch.nn.Module mirroring clseg's model `name` (names as clseg's parameter names)."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    def conv(i, o, k, s=1, p=0, d=1, bias=False):
        return nn.Conv2d(i, o, k, stride=s, padding=p, dilation=d, bias=bias)

    def deconv(i, o, k, s, p, op, bias):
        return nn.ConvTranspose2d(i, o, k, stride=s, padding=p, output_padding=op, bias=bias)

    class BasicBlock(nn.Module):
        """torchvision's BasicBlock, with the dilation torchvision refuses (blocks.c)."""

        def __init__(self, inplanes, planes, stride, dilation, downsample):
            super().__init__()
            self.conv1 = conv(inplanes, planes, 3, stride, dilation, dilation)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = conv(planes, planes, 3, 1, dilation, dilation)
            self.bn2 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = (nn.Sequential(conv(inplanes, planes, 1, stride), nn.BatchNorm2d(planes))
                               if downsample else None)

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return self.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet18(nn.Module):
        """torchvision's resnet18 without avgpool/fc; dilate[i] replaces layer i+2's stride."""

        def __init__(self, cin, b, dilate=(False, False, False)):
            super().__init__()
            self.conv1 = conv(cin, b, 7, 2, 3)
            self.bn1 = nn.BatchNorm2d(b)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            inplanes, dilation = b, 1
            for i in range(4):
                planes, stride, previous = b << i, 1 if i == 0 else 2, dilation
                if i > 0 and dilate[i - 1]:
                    dilation, stride = dilation * stride, 1
                down = stride != 1 or inplanes != planes
                layer = nn.Sequential(BasicBlock(inplanes, planes, stride, previous, down),
                                      BasicBlock(planes, planes, 1, dilation, False))
                setattr(self, "layer%d" % (i + 1), layer)
                inplanes = planes

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            stem, outs = x, []
            for i in range(4):
                x = getattr(self, "layer%d" % (i + 1))(x)
                outs.append(x)
            return stem, outs

    class UNet(nn.Module):
        """brain-segmentation-pytorch's UNet (unet.c), without the final sigmoid."""

        @staticmethod
        def block(cin, f, tag):
            return nn.Sequential(OrderedDict([
                (tag + "conv1", conv(cin, f, 3, 1, 1)), (tag + "norm1", nn.BatchNorm2d(f)),
                (tag + "relu1", nn.ReLU(inplace=True)),
                (tag + "conv2", conv(f, f, 3, 1, 1)), (tag + "norm2", nn.BatchNorm2d(f)),
                (tag + "relu2", nn.ReLU(inplace=True))]))

        def __init__(self, cin, classes, f):
            super().__init__()
            for i in range(4):
                setattr(self, "encoder%d" % (i + 1), self.block(cin if i == 0 else f << (i - 1), f << i,
                                                                "enc%d" % (i + 1)))
            self.pool = nn.MaxPool2d(2, 2)
            self.bottleneck = self.block(f << 3, f << 4, "bottleneck")
            for i in range(3, -1, -1):
                setattr(self, "upconv%d" % (i + 1), nn.ConvTranspose2d(f << (i + 1), f << i, 2, stride=2))
                setattr(self, "decoder%d" % (i + 1), self.block(2 * (f << i), f << i, "dec%d" % (i + 1)))
            self.conv = nn.Conv2d(f, classes, 1)

        def forward(self, x):
            enc = []
            for i in range(4):
                x = getattr(self, "encoder%d" % (i + 1))(x)
                enc.append(x)
                x = self.pool(x)
            x = self.bottleneck(x)
            for i in range(3, -1, -1):
                x = torch.cat((getattr(self, "upconv%d" % (i + 1))(x), enc[i]), dim=1)
                x = getattr(self, "decoder%d" % (i + 1))(x)
            return self.conv(x)

    class LinkNetDecoder(nn.Module):
        def __init__(self, m, n, stride):
            super().__init__()
            mid = max(1, m // 4)
            self.conv1, self.norm1 = conv(m, mid, 1), nn.BatchNorm2d(mid)
            # decoder1's stride is 1: ResNet-18's layer1 keeps its input's size (linknet.c)
            self.deconv2, self.norm2 = deconv(mid, mid, 3, stride, 1, stride - 1, False), nn.BatchNorm2d(mid)
            self.conv3, self.norm3 = conv(mid, n, 1), nn.BatchNorm2d(n)

        def forward(self, x):
            x = F.relu(self.norm1(self.conv1(x)), inplace=True)
            x = F.relu(self.norm2(self.deconv2(x)), inplace=True)
            return F.relu(self.norm3(self.conv3(x)), inplace=True)

    class LinkNet(nn.Module):
        def __init__(self, cin, classes, b):
            super().__init__()
            self.encoder = ResNet18(cin, b)
            widths = [b, b, 2 * b, 4 * b]  # the stem's and layer1..3's channels
            m = 8 * b
            for i in range(3, -1, -1):
                setattr(self, "decoder%d" % (i + 1), LinkNetDecoder(m, widths[i], 1 if i == 0 else 2))
                m = widths[i]
            half = max(1, b // 2)
            self.final = nn.Module()
            self.final.deconv1, self.final.norm1 = deconv(b, half, 3, 2, 1, 1, False), nn.BatchNorm2d(half)
            self.final.conv2, self.final.norm2 = conv(half, half, 3, 1, 1), nn.BatchNorm2d(half)
            self.final.deconv3 = deconv(half, classes, 2, 2, 0, 0, True)

        def forward(self, x):
            stem, layers = self.encoder(x)
            skips = [stem, layers[0], layers[1], layers[2]]
            x = layers[3]
            for i in range(3, -1, -1):
                x = getattr(self, "decoder%d" % (i + 1))(x) + skips[i]
            f = self.final
            x = F.relu(f.norm1(f.deconv1(x)), inplace=True)
            x = F.relu(f.norm2(f.conv2(x)), inplace=True)
            return f.deconv3(x)

    class ConvDeconv(nn.Module):
        """SegNet-style (convdeconv.c): pooling indices carried to the decoder's unpooling."""
        CONVS, FACTOR = (2, 2, 3, 3, 3), (1, 2, 4, 8, 8)

        def __init__(self, cin, classes, b):
            super().__init__()

            def cbr(j, i, o):  # encoder.S.convJ, encoder.S.bnJ as clseg names them
                return [("conv%d" % j, conv(i, o, 3, 1, 1)), ("bn%d" % j, nn.BatchNorm2d(o)),
                        ("relu%d" % j, nn.ReLU(inplace=True))]

            self.encoder, self.decoder = nn.ModuleList(), nn.ModuleList()
            c = cin
            for s in range(5):
                layers = []
                for j in range(1, self.CONVS[s] + 1):
                    layers += cbr(j, c, b * self.FACTOR[s])
                    c = b * self.FACTOR[s]
                self.encoder.append(nn.Sequential(OrderedDict(layers)))
            decoder = [None] * 5
            for s in range(4, -1, -1):
                # decoder stage 0 keeps one conv: the classifier is its second
                convs = self.CONVS[s] - 1 if s == 0 else self.CONVS[s]
                layers = []
                for j in range(1, convs + 1):
                    w = b * self.FACTOR[s - 1 if j == convs and s > 0 else s]
                    layers += cbr(j, c, w)
                    c = w
                decoder[s] = nn.Sequential(OrderedDict(layers))
            self.decoder.extend(decoder)
            self.pool = nn.MaxPool2d(2, 2, return_indices=True)
            self.unpool = nn.MaxUnpool2d(2, 2)
            self.classifier = nn.Conv2d(c, classes, 3, padding=1)

        def forward(self, x):
            saved = []
            for s in range(5):
                x = self.encoder[s](x)
                size = x.shape
                x, idx = self.pool(x)
                saved.append((idx, size))
            for s in range(4, -1, -1):
                idx, size = saved[s]
                x = self.decoder[s](self.unpool(x, idx, output_size=size))
            return self.classifier(x)

    class DeepLabV3(nn.Module):
        """torchvision's DeepLabV3 + DeepLabHead (ASPP) on ResNet-18 at output stride 16."""

        def __init__(self, cin, classes, b, output_stride=16):
            super().__init__()
            os8 = output_stride == 8
            self.backbone = ResNet18(cin, b, (False, os8, True))
            w, c, rate = 4 * b, 8 * b, 12 if os8 else 6

            def cbr(i, o, k, p=0, d=1):
                return nn.Sequential(conv(i, o, k, 1, p, d), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

            aspp = nn.Module()
            aspp.convs = nn.ModuleList([cbr(c, w, 1)] + [cbr(c, w, 3, rate * i, rate * i) for i in (1, 2, 3)] +
                                       [nn.Sequential(nn.AdaptiveAvgPool2d(1), conv(c, w, 1), nn.BatchNorm2d(w),
                                                      nn.ReLU(inplace=True))])
            aspp.project = nn.Sequential(conv(5 * w, w, 1), nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.Dropout(0.5))
            self.classifier = nn.Sequential(aspp, conv(w, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                                            nn.Conv2d(w, classes, 1))

        def forward(self, x):
            size = x.shape[-2:]
            _, layers = self.backbone(x)
            y = layers[3]
            aspp = self.classifier[0]
            branches = [m(y) for m in aspp.convs[:4]]
            pooled = aspp.convs[4](y)
            branches.append(F.interpolate(pooled, size=y.shape[-2:], mode="bilinear", align_corners=False))
            y = aspp.project(torch.cat(branches, dim=1))
            for m in list(self.classifier)[1:]:
                y = m(y)
            return F.interpolate(y, size=size, mode="bilinear", align_corners=False)

    class AutoEncoder(nn.Module):
        """autoencoder.c: 4 stride-2 convs, a 1x1 code of base/4, 4 stride-2 transposed convs."""

        def __init__(self, cin, b):
            super().__init__()
            code = max(1, b // 4)
            self.encoder = nn.ModuleList()
            c = cin
            for i in range(4):
                blk = nn.Module()
                blk.conv, blk.bn = conv(c, b << i, 3, 2, 1), nn.BatchNorm2d(b << i)
                self.encoder.append(blk)
                c = b << i
            self.code = conv(c, code, 1)
            self.expand = nn.Module()
            self.expand.conv, self.expand.bn = conv(code, 8 * b, 1), nn.BatchNorm2d(8 * b)
            self.decoder = nn.ModuleList()
            c = 8 * b
            for i in range(3):
                blk = nn.Module()
                blk.conv, blk.bn = deconv(c, b << (2 - i), 3, 2, 1, 1, False), nn.BatchNorm2d(b << (2 - i))
                self.decoder.append(blk)
                c = b << (2 - i)
            last = nn.Module()
            last.conv = deconv(c, cin, 3, 2, 1, 1, True)
            self.decoder.append(last)

        def forward(self, x):
            for blk in self.encoder:
                x = F.relu(blk.bn(blk.conv(x)), inplace=True)
            x = F.relu(self.expand.bn(self.expand.conv(self.code(x))), inplace=True)
            for blk in self.decoder[:3]:
                x = F.relu(blk.bn(blk.conv(x)), inplace=True)
            return self.decoder[3].conv(x)

    if name not in MODELS:
        raise ValueError("unknown model '%s' (%s)" % (name, ", ".join(MODELS)))
    b = base or DEFAULTS[name][0]
    if name == "unet":
        return UNet(in_channels, classes, b)
    if name == "linknet":
        return LinkNet(in_channels, classes, b)
    if name == "convdeconv":
        return ConvDeconv(in_channels, classes, b)
    if name == "deeplabv3":
        return DeepLabV3(in_channels, classes, b)
    return AutoEncoder(in_channels, b)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def check_parameters(name, model, base):
    """Raises when the default-width model's count differs from clseg's."""
    n = parameter_count(model)
    if base is None or base == DEFAULTS[name][0]:
        if n != CLSEG_PARAMS[name]:
            raise AssertionError("%s: %d parameters, clseg's has %d: the PyTorch model no longer mirrors "
                                 "src/models/%s.c" % (name, n, CLSEG_PARAMS[name], name))
    return n


def bce_dice_loss(logits, target):
    """clseg's CLSEG_LOSS_BCE_DICE (include/clseg/loss.h): mean BCE on logits + 1 - soft Dice over
    the whole batch on sigmoid(logits), smooth 1, weights 1 and 1."""
    import torch.nn.functional as F
    p = logits.sigmoid()
    dice = (2.0 * (p * target).sum() + 1.0) / (p.sum() + target.sum() + 1.0)
    return F.binary_cross_entropy_with_logits(logits, target) + (1.0 - dice)


def measure(name, size, batch, steps, threads, base=None, torch_device="cpu"):
    """clseg bench train's figures for PyTorch on torch_device (see the module's docstring)."""
    t_import = time.perf_counter()
    import torch
    import torch.nn.functional as F
    import_s = time.perf_counter() - t_import

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only allowed before any parallel work; harmless when it was
        pass
    default_base, multiple, least = DEFAULTS[name]
    if size % multiple or size < least:
        raise ValueError("%s: --size must be a multiple of %d and at least %d, not %d" %
                         (name, multiple, least, size))
    if name == "deeplabv3" and batch < 2:
        # PyTorch's BatchNorm refuses one value per channel in training (the ASPP's pooled branch)
        raise ValueError("deeplabv3: PyTorch needs --batch >= 2 to train it (BatchNorm on a 1x1 pooled map)")
    cuda = torch_device.startswith("cuda")
    if cuda:
        if not torch.cuda.is_available():
            raise ValueError("--torch-device %s: this PyTorch sees no CUDA device" % torch_device)
        # clseg computes in plain float32: keep cuDNN and cuBLAS off TF32's 10-bit mantissas
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True

    def sync():
        if cuda:
            torch.cuda.synchronize()
    torch.manual_seed(42)
    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    t0 = time.perf_counter()
    model = build_model(name, base)
    params = check_parameters(name, model, base)
    model = model.to(torch_device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 3, size, size)
    autoencoder = name == "autoencoder"
    out_shape = x.shape if autoencoder else (batch, 1, size, size)
    n = out_shape[0] * out_shape[1] * out_shape[2] * out_shape[3]
    # as clseg: the mask is the input's first values thresholded (the auto-encoder's target too)
    y = (x.reshape(-1)[:n] > 0.7).float().reshape(out_shape)
    x, y = x.to(torch_device), y.to(torch_device)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = F.mse_loss(out, y) if autoencoder else bce_dice_loss(out, y)
        loss.backward()
        optimizer.step()
        return loss.item()

    train_step()
    first_step_s = time.perf_counter() - t0
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        train_step()
        times.append(time.perf_counter() - t)
    train_step_s = statistics.median(times)
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(-1, steps):
            t = time.perf_counter()
            out = model(x).contiguous()
            sync()
            if i >= 0:
                times.append(time.perf_counter() - t)
    del out
    infer_step_s = statistics.median(times)
    version = ".".join(torch.__version__.split("+")[0].split(".")[:2])
    where = "cpu, %d thread%s" % (threads, "" if threads == 1 else "s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if cuda:
        where = "%s (%s), float32 without TF32" % (torch_device, torch.cuda.get_device_name(torch_device))
        peak = torch.cuda.max_memory_allocated(torch_device)
    return OrderedDict([
        ("model", name), ("size", size), ("batch", batch), ("steps", steps),
        ("device", "pytorch %s %s" % (version, where)),
        ("train_images_per_s", batch / train_step_s), ("infer_images_per_s", batch / infer_step_s),
        ("train_step_s", train_step_s), ("infer_step_s", infer_step_s), ("first_step_s", first_step_s),
        ("peak_memory_bytes", peak),
        # beyond clseg's keys: the peak RSS once torch was imported, before the model (the
        # libraries' share of peak_memory_bytes), the import's time, the parameters
        ("baseline_memory_bytes", baseline_rss), ("import_s", import_s), ("parameters", params)])


def mib(n):
    return "%.1f MiB" % (n / 1048576.0)


def print_result(r):
    print("pytorch reference: %s at %dx%d, batch %d, %d parameters" %
          (r["model"], r["size"], r["size"], r["batch"], r["parameters"]))
    print("device                 %s" % r["device"])
    print("training               %.3f images/s (%.3f s per step, median of %d)" %
          (r["train_images_per_s"], r["train_step_s"], r["steps"]))
    print("inference              %.3f images/s (%.3f s per batch, median of %d)" %
          (r["infer_images_per_s"], r["infer_step_s"], r["steps"]))
    print("first step             %.2f s (model construction, one step; importing torch took %.2f s more)" %
          (r["first_step_s"], r["import_s"]))
    if r["device"].split()[2].startswith("cuda"):
        print("peak CUDA memory       %s (PyTorch's allocations)" % mib(r["peak_memory_bytes"]))
    else:
        print("peak host RSS          %s (whole process; %s of it before the model)" %
              (mib(r["peak_memory_bytes"]), mib(r["baseline_memory_bytes"])))


def write_json(path, data):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    print("wrote %s" % path)


def positive(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be a positive integer, not %s" % text)
    return v


def csv_of(kind, allowed=None):
    def parse(text):
        items = [s.strip() for s in text.split(",") if s.strip()]
        if not items:
            raise argparse.ArgumentTypeError("empty list")
        out = []
        for s in items:
            v = positive(s) if kind is int else s
            if allowed is not None and v not in allowed:
                raise argparse.ArgumentTypeError("unknown %r (%s)" % (v, ", ".join(allowed)))
            out.append(v)
        return out
    return parse


def clseg_command(clseg, model, size, batch, steps, json_path, device=None, cold=True):
    cmd = [clseg, "bench", "train", "--model", model, "--size", str(size), "--batch", str(batch),
           "--steps", str(steps), "--json", json_path]
    if device:
        cmd += ["--device", device]
    if not cold:
        cmd += ["--no-cold"]
    return cmd


def median_of_rounds(results):
    """The first round's figures with the images/s replaced by the medians over all rounds."""
    merged = dict(results[0])
    for key in ("train_images_per_s", "infer_images_per_s"):
        merged[key] = statistics.median(r[key] for r in results)
        merged[key + "_rounds"] = [r[key] for r in results]
    return merged


def pytorch_command(model, size, batch, steps, threads, json_path, torch_device="cpu"):
    # a process of its own per measurement: ru_maxrss is a process's peak over its whole life
    return [sys.executable, os.path.abspath(__file__), "--model", model, "--size", str(size), "--batch",
            str(batch), "--steps", str(steps), "--threads", str(threads), "--torch-device", torch_device,
            "--json", json_path]


def run_json(cmd, path):
    """Runs cmd, which writes JSON to path; None (after saying why) when it fails."""
    print("$ " + " ".join(cmd), flush=True)
    try:
        if os.path.exists(path):
            os.remove(path)
        rc = subprocess.run(cmd).returncode
        if rc != 0:
            sys.stderr.write("compare: %s exited with %d\n" % (cmd[0], rc))
            return None
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("compare: %s: %s\n" % (cmd[0], e))
        return None


def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


def markdown_table(rows):
    lines = ["| model | size | clseg train img/s | PyTorch train img/s | train ratio | clseg infer img/s | "
             "PyTorch infer img/s | infer ratio | clseg first step cold / warm s | PyTorch first step s | "
             "clseg peak device memory | PyTorch peak memory |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c, p in rows:
        lines.append("| %s | %d | %.3f | %.3f | %s | %.3f | %.3f | %s | %.2f / %.2f | %.2f | %s | %s |" % (
            c["model"], c["size"], c["train_images_per_s"], p["train_images_per_s"],
            ratio(c["train_images_per_s"], p["train_images_per_s"]), c["infer_images_per_s"],
            p["infer_images_per_s"], ratio(c["infer_images_per_s"], p["infer_images_per_s"]),
            c.get("first_step_cold_s", float("nan")), c.get("first_step_warm_s", c.get("first_step_s", 0.0)),
            p["first_step_s"], mib(c.get("peak_memory_bytes", 0)), mib(p["peak_memory_bytes"])))
    return "\n".join(lines)


def compare(argv):
    ap = argparse.ArgumentParser(prog="pytorch_reference.py compare",
                                 description="Runs `clseg bench train` and the PyTorch reference one after "
                                             "the other for each model and size, and prints clseg/PyTorch "
                                             "ratios (above 1: clseg is faster) as a Markdown table.")
    ap.add_argument("--clseg", required=True, help="the clseg executable (e.g. build/tools/clseg)")
    ap.add_argument("--models", type=csv_of(str, MODELS), default=["unet", "linknet", "convdeconv"])
    ap.add_argument("--sizes", type=csv_of(int), default=[128, 256])
    ap.add_argument("--batch", type=positive, default=8)
    ap.add_argument("--steps", type=positive, default=3)
    ap.add_argument("--threads", type=positive, default=os.cpu_count() or 1,
                    help="PyTorch's threads (default: every core, as PoCL uses)")
    ap.add_argument("--device", help="clseg's --device SEL")
    ap.add_argument("--torch-device", default="cpu", help="PyTorch's device: cpu (default) or cuda[:N]")
    ap.add_argument("--json", help="also write every pair of results here")
    ap.add_argument("--rounds", type=positive, default=1,
                    help="measure each pair this many times, in turns, and report the medians (rounds after "
                         "the first skip clseg's cold start: `bench train --no-cold`)")
    ap.add_argument("--no-cold", action="store_true",
                    help="skip clseg's cold start in the first round too (a GPU driver's compilation takes a "
                         "while and is not what is compared)")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    a = ap.parse_args(argv)
    rows, failed = [], 0
    with tempfile.TemporaryDirectory(prefix="clseg-compare-") as tmp:
        for model in a.models:
            for size in a.sizes:
                cj, pj = os.path.join(tmp, "clseg.json"), os.path.join(tmp, "pytorch.json")
                cs, ps = [], []
                for r in range(a.rounds):
                    cc = clseg_command(a.clseg, model, size, a.batch, a.steps, cj, a.device, cold=r == 0 and not a.no_cold)
                    pc = pytorch_command(model, size, a.batch, a.steps, a.threads, pj, a.torch_device)
                    if a.dry_run:
                        print(" ".join(cc))
                        print(" ".join(pc))
                        continue
                    c = run_json(cc, cj)
                    p = run_json(pc, pj) if c is not None else None
                    if c is None or p is None:
                        break
                    cs.append(c)
                    ps.append(p)
                if a.dry_run:
                    continue
                if len(cs) == a.rounds:
                    rows.append((median_of_rounds(cs), median_of_rounds(ps)))
                else:
                    failed += 1
    if a.dry_run:
        return 0
    if rows:
        print()
        print(markdown_table(rows))
        print()
        print("Ratios are clseg / PyTorch images per second (above 1: clseg is faster)%s. Memory: clseg's "
              "peak device buffers; PyTorch's whole process's peak RSS on a CPU, its peak CUDA allocation on "
              "a GPU." %
              (", medians of %d rounds taken in turns" % a.rounds if a.rounds > 1 else ""))
    if failed:
        sys.stderr.write("compare: %d of %d measurements failed (see above)\n" % (failed, failed + len(rows)))
    if a.json:
        write_json(a.json, [{"clseg": c, "pytorch": p} for c, p in rows])
    return 1 if failed else 0


# U-Net's 3x3 convolutions as `clseg bench ops --size 128` lists them: (input channels, side, output
# channels); other sizes scale the sides.
UNET_CONVS = ((3, 128, 32), (32, 128, 32), (64, 128, 32), (32, 64, 64), (64, 64, 64), (128, 64, 64),
              (64, 32, 128), (128, 32, 128), (256, 32, 128), (128, 16, 256), (256, 16, 256), (512, 16, 256),
              (256, 8, 512), (512, 8, 512))


def sgemm(argv):
    """numpy's float32 matrix product (OpenBLAS in PyPI's wheels) at the products of U-Net's 3x3
    convolutions: W (K x 9C) times im2col (9C x side^2), once per image of a batch. Its GFLOP/s
    are what `clseg bench ops --op conv2d --size S` is compared with."""
    ap = argparse.ArgumentParser(prog="pytorch_reference.py sgemm", description=sgemm.__doc__)
    ap.add_argument("--size", type=positive, default=128,
                    help="U-Net's input side, as clseg bench ops --size takes it: a multiple of 16 (default 128)")
    ap.add_argument("--batch", type=positive, default=8)
    ap.add_argument("--repeat", type=positive, default=5)
    a = ap.parse_args(argv)
    if a.size % 16:
        ap.error("--size %d: not a multiple of 16 (U-Net pools 4 times)" % a.size)
    import numpy as np
    rng = np.random.default_rng(1)
    print("numpy %s, BLAS: %s" % (np.__version__, blas_name(np)))
    print("%-28s %10s %9s" % ("product (M x N x K) x batch", "ms", "GFLOP/s"))
    sides = [(c, side * a.size // 128, k) for c, side, k in UNET_CONVS]
    shapes = [(k, side * side, 9 * c, "conv %dx%dx%d ->%d" % (c, side, side, k)) for c, side, k in sides]
    shapes += [(64, 65536, 576, "issue: 64 x 65536 x 576"), (128, 16384, 1152, "issue: 128 x 16384 x 1152")]
    for m, n, k, label in shapes:
        w = rng.random((m, k), dtype=np.float32)
        cols = [rng.random((k, n), dtype=np.float32) for _ in range(min(a.batch, 2))]
        out = np.empty((m, n), dtype=np.float32)
        times = []
        for r in range(a.repeat + 1):
            t0 = time.perf_counter()
            for i in range(a.batch):
                np.matmul(w, cols[i % len(cols)], out=out)
            if r > 0:
                times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        print("%-28s %10.3f %9.1f" % (label, t * 1e3, 2.0 * m * n * k * a.batch / t / 1e9))
    return 0


def blas_name(np):
    try:
        info = np.show_config(mode="dicts")
        return info["Build Dependencies"]["blas"]["name"]
    except Exception:  # older numpy: no dict mode
        return "unknown"


def main(argv):
    if argv and argv[0] == "compare":
        return compare(argv[1:])
    if argv and argv[0] == "sgemm":
        return sgemm(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="`%(prog)s compare --help`: clseg against PyTorch, model by model; "
                                        "`%(prog)s sgemm --help`: numpy's BLAS at U-Net's convolution products.")
    ap.add_argument("--model", choices=MODELS, default="unet")
    ap.add_argument("--size", type=positive, default=256)
    ap.add_argument("--batch", type=positive, default=8)
    ap.add_argument("--steps", type=positive, default=3)
    ap.add_argument("--base", type=positive, help="the model's width (default: its own)")
    ap.add_argument("--threads", type=positive, default=os.cpu_count() or 1,
                    help="torch.set_num_threads (default: every core)")
    ap.add_argument("--torch-device", default="cpu",
                    help="cpu (default) or cuda[:N]: on a GPU, float32 with TF32 off, as clseg computes")
    ap.add_argument("--json", help="also write the figures as JSON (clseg bench train's keys)")
    a = ap.parse_args(argv)
    try:
        r = measure(a.model, a.size, a.batch, a.steps, a.threads, a.base, a.torch_device)
    except ImportError as e:
        sys.stderr.write("pytorch_reference: %s; install PyTorch (see this script's docstring)\n" % e)
        return 1
    except ValueError as e:
        sys.stderr.write("pytorch_reference: %s\n" % e)
        return 2
    print_result(r)
    if a.json:
        write_json(a.json, r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
