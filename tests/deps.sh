#!/usr/bin/env bash
# Install the Debian packages tkd needs to build and test, only those missing.
# Idempotent and quiet when everything is there. Run as root (or with sudo).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
  libcurl4-openssl-dev libjansson-dev libgmp-dev libmpfr-dev
  libflint-dev libflint-arb-dev libcalcium-dev
  libantic-dev
  libopenblas-dev libpcre2-dev libmicrohttpd-dev libseccomp-dev
  clang libclang-rt-14-dev
  python3 python3-numpy python3-h5py python3-sympy python3-torch python3-aiohttp
  nginx
  slurm-wlm munge
  python3-jinja2 unicode-data bzip2
  gnuplot-nox
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm (tokenizer reference in tests) may come from elsewhere than Debian
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tkd: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
