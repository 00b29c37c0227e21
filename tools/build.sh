#!/usr/bin/env bash
# Configures (or reconfigures) and builds one build folder: tools/build.sh DIR [meson options...]
set -euo pipefail
dir=$1
shift
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "$@" >/dev/null
else
  meson setup "$dir" "$@" >/dev/null
fi
meson compile -C "$dir" >/dev/null
