#!/usr/bin/env bash
# Installs every Debian package clseg needs to build, test and run (Debian 12 "bookworm").
# Safe to re-run: it installs only what is missing.
set -euo pipefail

packages=(
  gcc meson ninja-build pkg-config   # build
  ocl-icd-opencl-dev opencl-headers  # the OpenCL ICD loader and headers
  pocl-opencl-icd                    # an OpenCL device on the CPU (PoCL), the default everywhere
  clinfo                             # to see what OpenCL finds
  libclblast-dev                     # tuned OpenCL BLAS
  libtiff-dev                        # the LGG slices and masks are TIFF files
  libpng-dev                         # overlays and training curves are written as PNG
  check                              # the test framework
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: installing ${missing[*]} needs root (or sudo)" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "setup: all packages present"
