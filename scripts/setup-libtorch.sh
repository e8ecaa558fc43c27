#!/usr/bin/env bash
# Fetch libtorch 2.11.0 (CPU build) from PyPI wheels into .libtorch/ (git-ignored).
# The torch wheel carries the libtorch layout (include/, lib/); the two small NVIDIA
# wheels supply the libcudart/libcupti that libtorch's RUNPATH expects.
# Idempotent: a marker file records a finished install, so a second call takes milliseconds.
set -euo pipefail

TORCH_VERSION="2.11.0"
root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root_dir/.libtorch"
marker="$dest/root/.installed-$TORCH_VERSION"

if [[ -f "$marker" ]]; then
  exit 0
fi

python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [[ -z "$python" ]]; then
  echo "setup: Python 3 is required to fetch libtorch from PyPI; install python3 and pip first" >&2
  exit 1
fi
if ! "$python" -m pip --version >/dev/null 2>&1; then
  echo "setup: pip is missing; install it (e.g. 'apt-get install python3-pip' or 'python3 -m ensurepip')" >&2
  exit 1
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) extra_wheels=("nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cupti==13.0.85") ;;
  Darwin-arm64) extra_wheels=() ;;
  *) echo "setup: no torch==$TORCH_VERSION wheel is known for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

wheels="$dest/wheels"
mkdir -p "$wheels"
echo "setup: fetching torch==$TORCH_VERSION wheels from PyPI into $wheels (about 540 MB, once)" >&2
if ! "$python" -m pip download --quiet --no-deps -d "$wheels" "torch==$TORCH_VERSION" "${extra_wheels[@]}"; then
  echo "setup: could not download torch==$TORCH_VERSION from PyPI; check the network or a pip proxy and run 'just setup' again" >&2
  exit 1
fi

# Unpack into a fresh folder, then move it into place so an interrupted unzip never looks finished.
staging="$dest/root.partial"
rm -rf "$staging"
mkdir -p "$staging"
for wheel in "$wheels"/*.whl; do
  "$python" -m zipfile -e "$wheel" "$staging"
done
# A CPU binary never loads these; dropping them saves ~600 MB.
for lib in libtorch_cuda.so libtorch_cuda_linalg.so libtorch_python.so libtorch_nvshmem.so libc10_cuda.so libcaffe2_nvrtc.so; do
  rm -f "$staging/torch/lib/$lib"
done
rm -rf "$dest/root"
mv "$staging" "$dest/root"
touch "$marker"
echo "setup: libtorch $TORCH_VERSION ready in $dest/root/torch" >&2
