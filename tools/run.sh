#!/usr/bin/env bash
# The main job: installs what is needed, builds clseg, checks every kernel on the default device
# against the plain-C reference, then trains a U-Net briefly on synthetic phantoms (or on the
# dataset given with --data), evaluates it on its validation patients and writes overlays.
#
#   bash tools/run.sh [--data DIR] [--epochs E] [--size S] [--device SEL]
set -euo pipefail
cd "$(dirname "$0")/.."

data= epochs=4 size=64 device=()
while (($#)); do
  case $1 in
    --data) data=${2:?--data needs a folder}; shift 2 ;;
    --epochs) epochs=${2:?--epochs needs a number}; shift 2 ;;
    --size) size=${2:?--size needs a number}; shift 2 ;;
    --device) device=(--device "${2:?--device needs a selector}"); shift 2 ;;
    -h|--help) sed -n 2,6p "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

bash tools/setup.sh
bash tools/build.sh build
clseg=./build/tools/clseg

echo "== OpenCL devices"
"$clseg" devices
echo "== every kernel on the device against the plain-C reference"
"$clseg" verify "${device[@]}"

out=${CLSEG_RUN_DIR:-runs/demo}
mkdir -p "$out"
if [ -z "$data" ]; then
  echo "== a synthetic LGG-style dataset (phantoms)"
  data=$out/phantoms
  [ -f "$data/data.csv" ] || "$clseg" phantoms --out "$data"
fi
"$clseg" data --data "$data"

run=$out/unet-$(date +%Y%m%d-%H%M%S)
echo "== training a U-Net for $epochs epochs at ${size}x${size} (run folder $run)"
"$clseg" train --model unet --data "$data" --size "$size" --epochs "$epochs" --out "$run" "${device[@]}"

echo "== the best checkpoint on the validation patients"
"$clseg" eval --checkpoint "$run/best.safetensors" --data "$data" --split val "${device[@]}"

patient=$(sed -n 's/^validation: \([^,]*\).*/\1/p' "$run/split.txt")
echo "== predicted masks and overlays for validation patient $patient"
"$clseg" predict --checkpoint "$run/best.safetensors" --input "$data/$patient" --out "$run/predictions" "${device[@]}"

echo
echo "done. The run folder $run holds:"
echo "  metrics.csv, curves.png         validation Dice/IoU and training loss per epoch"
echo "  best.safetensors, last.safetensors   checkpoints (PyTorch-readable safetensors)"
echo "  predictions/$patient/*_overlay.png   FLAIR with the true (green) and predicted (red) tumour outlines"
echo "Resume or extend it:  $clseg train --resume $run --epochs $((epochs + 4))"
