#!/usr/bin/env bash
# Fetch libtorch 2.11.0 from PyPI wheels into .libtorch/ (git-ignored).
#
#   setup-libtorch.sh [cpu]   CPU build (default) into .libtorch/root; on Linux x86_64 the two
#                             small NVIDIA wheels supply the libcudart/libcupti that libtorch's
#                             RUNPATH expects; on macOS arm64 the wheel also carries MPS.
#   setup-libtorch.sh cuda    the full torch wheel set (torch + its nvidia-* wheels, several GB)
#                             into .libtorch/cuda, for `cargo build --features cuda`.
#
# The torch wheel carries the libtorch layout (include/, lib/).
# Idempotent: a marker file records a finished install, so a second call takes milliseconds.
set -euo pipefail

TORCH_VERSION="2.11.0"
variant="${1:-cpu}"
root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root_dir/.libtorch"
marker="$dest/root/.installed-$TORCH_VERSION"
cuda_dest="$dest/cuda"
cuda_marker="$cuda_dest/.installed-$TORCH_VERSION"

case "$variant" in
  cpu | cuda) ;;
  *) echo "setup: unknown variant '$variant': expected cpu or cuda" >&2; exit 2 ;;
esac

cuda_build_hint() {
  echo "setup: build the CUDA binary with:" >&2
  echo "  LIBTORCH=$cuda_dest/torch cargo build --release --features cuda" >&2
  echo "setup: then check 'harness env' shows the GPU and run e.g. 'harness bench --device cuda'" >&2
}

if [[ "$variant" == "cpu" && -f "$marker" ]]; then
  exit 0
fi
if [[ "$variant" == "cuda" && -f "$cuda_marker" ]]; then
  cuda_build_hint
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

platform="$(uname -s)-$(uname -m)"
if [[ "$variant" == "cuda" ]]; then
  if [[ "$platform" != "Linux-x86_64" ]]; then
    echo "setup: the CUDA build needs Linux x86_64 (this is $platform); on Apple silicon use the default CPU build, which includes MPS (--device mps)" >&2
    exit 1
  fi
  # pip resolves torch's own nvidia-* requirements (cuBLAS, cuDNN, NCCL, ...). --target keeps
  # the site-packages layout (torch/ next to nvidia/), which is what libtorch_cuda.so's
  # RUNPATH ($ORIGIN/../../nvidia/...) expects.
  staging="$cuda_dest.partial"
  rm -rf "$staging"
  echo "setup: installing the full torch==$TORCH_VERSION wheel set (CUDA; several GB, once) into $cuda_dest" >&2
  if ! "$python" -m pip install --quiet --no-compile --target "$staging" "torch==$TORCH_VERSION"; then
    echo "setup: could not install torch==$TORCH_VERSION with its CUDA wheels from PyPI; check the network, a pip proxy and free disk space, then run 'just setup cuda' again" >&2
    exit 1
  fi
  if [[ ! -f "$staging/torch/lib/libtorch_cuda.so" ]]; then
    echo "setup: the installed torch has no libtorch_cuda.so (a CPU-only wheel?); cannot build with --features cuda" >&2
    exit 1
  fi
  rm -rf "$cuda_dest"
  mv "$staging" "$cuda_dest"
  touch "$cuda_marker"
  echo "setup: CUDA libtorch $TORCH_VERSION ready in $cuda_dest/torch" >&2
  cuda_build_hint
  exit 0
fi

case "$platform" in
  Linux-x86_64) extra_wheels=("nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cupti==13.0.85") ;;
  # The macOS arm64 wheel is self-contained (CPU + MPS); no extra wheels.
  Darwin-arm64) extra_wheels=() ;;
  *) echo "setup: no torch==$TORCH_VERSION wheel is known for $platform" >&2; exit 1 ;;
esac

wheels="$dest/wheels"
mkdir -p "$wheels"
echo "setup: fetching torch==$TORCH_VERSION wheels from PyPI into $wheels (about 540 MB, once)" >&2
if ! "$python" -m pip download --quiet --no-deps -d "$wheels" "torch==$TORCH_VERSION" ${extra_wheels[@]+"${extra_wheels[@]}"}; then
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
