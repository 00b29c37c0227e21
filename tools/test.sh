#!/usr/bin/env bash
# The test command: installs what is needed, builds with warnings as errors, and runs the
# whole suite twice: an ordinary build, then one under AddressSanitizer and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
# set-up installs PoCL, so a missing OpenCL device here is a fault, not a reason to skip
export CLSEG_REQUIRE_OPENCL=1
export CLSEG_DEVICE=${CLSEG_DEVICE:-}

echo "== build (warnings are errors)"
bash tools/build.sh build --werror
./build/tools/clseg devices
echo "== tests"
meson test -C build --print-errorlogs

echo "== build with AddressSanitizer and UndefinedBehaviorSanitizer"
bash tools/build.sh build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false
echo "== tests under the sanitizers"
meson test -C build-asan --print-errorlogs
