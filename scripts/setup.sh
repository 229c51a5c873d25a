#!/usr/bin/env bash
# Sets tessel up on Debian 12: installs the Debian packages it needs when missing (as root,
# or through sudo), then configures and builds everything into build/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${TESSEL_BUILD_DIR:-$root/build}

packages=(
  g++ cmake ninja-build pkgconf          # toolchain
  libsystemc-dev                         # SystemC 2.3.4 kernel and TLM
  libeigen3-dev                          # reference products for the numerics check
  libboost-dev                           # Boost headers
  libyaml-cpp-dev                        # architecture configs
  nlohmann-json3-dev                     # summary.json, stats.json
  libcli11-dev                           # command-line parsing
  libfccp-dev                            # SCALE-Sim topology CSVs
  libgtest-dev libbenchmark-dev          # tests and benchmarks
  pybind11-dev python3-dev               # the Python module, for Debian's /usr/bin/python3
  python3-yaml python3-numpy python3-pandas python3-matplotlib  # the tessel Python package
  python3-distributed                    # tessel.sweep on a Dask cluster
  python3-pytest python3-nbclient python3-nbformat python3-ipykernel  # Python tests, notebooks
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3
cmake --build "$build_dir" -j "$(nproc)"

# `import tessel` for /usr/bin/python3: a .pth file naming the package and the built module,
# in the system site directory as root, else in the user's.
if [[ $(id -u) -eq 0 ]]; then
  site=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
else
  site=$(/usr/bin/python3 -c 'import site; print(site.getusersitepackages())')
fi
mkdir -p "$site"
printf '%s\n%s\n' "$root/python" "$build_dir/python" >"$site/tessel.pth"
echo "setup: /usr/bin/python3 imports tessel from $root/python (listed in $site/tessel.pth)"
