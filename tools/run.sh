#!/usr/bin/env bash
# The main job: installs what is needed, builds clseg, shows the OpenCL devices, verifies every
# kernel on the default device against the plain-C reference, and prepares a synthetic dataset.
# Training (clseg train) joins this job as soon as the models land.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
bash tools/build.sh build
clseg=./build/tools/clseg

echo "== OpenCL devices"
"$clseg" devices
echo "== every kernel on the default device against the plain-C reference"
"$clseg" verify
echo "== a synthetic LGG-style dataset (phantoms), and what the reader finds in it"
out=${CLSEG_RUN_DIR:-runs/demo}
mkdir -p "$out"
"$clseg" phantoms --out "$out/phantoms"
"$clseg" data --data "$out/phantoms"
echo
echo "clseg is built in build/ (command: $clseg); the phantom dataset is in $out/phantoms"
