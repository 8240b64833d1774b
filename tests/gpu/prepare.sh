#!/usr/bin/env bash
# tests/gpu/prepare.sh [BUILD_DIR]: run HERE, on the CPU build machine, before a
# GPU session. The device machine has the NVIDIA driver, CUDA and Python but none
# of tkd's Debian libraries (Open MPI, HDF5, FLINT, OpenBLAS, ...) and cannot
# install any, so tkd cannot be built there. This builds tkd with CUDA (sm_80 and
# sm_90) and packs what tests/gpu/run.sh needs into build-gpu-carry/, then into
# build-gpu-pack/carry.tar.xz (ignored by git; ~25 MB, under the 64 MiB a device
# call carries, where the folder itself, ~100 MB, is not):
#   bin/   tkd, the tests/gpu programs, bench_train_gpu, Open MPI's mpiexec and orted
#   lib/   every shared library they load, except glibc's and the driver's; CUDA's
#          cudart comes along, cuBLASLt and NCCL (0.5 GB and 0.2 GB) are found on
#          the device (its CUDA or its Python's nvidia-* packages)
#   ompi/  Open MPI's plugins (MPI_Init loads them; OMPI_MCA_mca_base_component_path)
# Then, in the session:  run(command="bash tests/gpu/run.sh", carry=["build-gpu-pack"], timeout_s=540)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${1:-$ROOT/build}
C=$ROOT/build-gpu-carry
cd "$ROOT"
if ! grep -q "TKD_HAVE_CUDA:INTERNAL=ON\|tkd: CUDA+NCCL ON" "$B/CMakeCache.txt" 2>/dev/null &&
   ! nm -C "$B/bin/tkd" 2>/dev/null | grep " T tkd_engine_cuda" >/dev/null; then
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTKD_WERROR=ON >/dev/null
fi
cmake --build "$B" -j2 >/dev/null
nm -C "$B/bin/tkd" | grep " T tkd_engine_cuda" >/dev/null || { echo "prepare: $B/bin/tkd has no CUDA engine (no nvcc or NCCL here?)" >&2; exit 1; }
rm -rf "$C"
mkdir -p "$C/bin" "$C/lib" "$C/ompi"
progs=("$B/bin/tkd")
for f in "$B"/bin/gpu_test_* "$B/bin/bench_train_gpu"; do [ -x "$f" ] && progs+=("$f"); done
for p in "${progs[@]}"; do objcopy --strip-debug "$p" "$C/bin/$(basename "$p")"; done
for p in orterun orted; do command -v $p >/dev/null && cp -L "$(command -v $p)" "$C/bin/"; done
[ -x "$C/bin/orterun" ] && ln -sf orterun "$C/bin/mpiexec"
plugins=$(dirname "$(find /usr/lib -path '*openmpi*' -name 'mca_ess_singleton.so' | head -1)")
[ -d "$plugins" ] && cp -L "$plugins"/*.so "$C/ompi/"
# every library the programs and plugins load, but glibc's, the driver's and CUDA's big ones
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libcuda\.so|libcublas|libnccl|libnvidia)'
for f in "${progs[@]}" "$C"/bin/orte* "$C"/ompi/*.so; do
  [ -e "$f" ] || continue
  ldd "$f" 2>/dev/null | awk '/=> \// {print $1, $3}'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $skip ]] || cp -nL "$path" "$C/lib/$name"
done
mkdir -p "$ROOT/build-gpu-pack"
tar cJf "$ROOT/build-gpu-pack/carry.tar.xz" -C "$ROOT" build-gpu-carry
echo "prepare: $(ls "$C/bin" | tr '\n' ' ')"
echo "prepare: build-gpu-carry $(du -sh "$C" | cut -f1), packed $(du -sh "$ROOT/build-gpu-pack/carry.tar.xz" | cut -f1)"
echo "prepare: now run(command=\"bash tests/gpu/run.sh\", carry=[\"build-gpu-pack\"], timeout_s=540)"
