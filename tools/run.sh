#!/usr/bin/env bash
# The main job: installs what is needed, builds clseg, shows the OpenCL devices, verifies every
# kernel on the default device against the plain-C reference, describes the U-Net it will train,
# and prepares a synthetic dataset. Training (clseg train) joins this job with the next issue.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
bash tools/build.sh build
clseg=./build/tools/clseg

echo "== OpenCL devices"
"$clseg" devices
echo "== every kernel on the default device against the plain-C reference"
"$clseg" verify
echo "== the U-Net of brain-segmentation-pytorch: layers, parameters, GFLOPs, planned memory"
"$clseg" summary --model unet --size 256 --batch 8
echo "== a synthetic LGG-style dataset (phantoms), and what the reader finds in it"
out=${CLSEG_RUN_DIR:-runs/demo}
mkdir -p "$out"
"$clseg" phantoms --out "$out/phantoms"
"$clseg" data --data "$out/phantoms"
echo
echo "clseg is built in build/ (command: $clseg); the phantom dataset is in $out/phantoms"
