#!/usr/bin/env bash
# Installs every build and test dependency of clusterdns from Debian's archive (idempotent, quiet
# when all is there), then builds the release tree in build/. Other scripts source it first.
#   scripts/setup.sh            install + build build/
#   CDNS_SKIP_BUILD=1 scripts/setup.sh   install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libabsl-dev libsimdjson-dev libcurl4-openssl-dev libdpdk-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  libjemalloc-dev libcpp-httplib-dev libssl-dev libyaml-cpp-dev prometheus-cpp-dev openssl
  knot-dnsutils dnsutils dnsperf curl iproute2 ethtool iputils-ping
  knot  # knotd: the upstream the forwarding tests start themselves (never the system service)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Debian starts the knot service on the host's port 53 at install: a policy-rc.d that answers
  # 101 ("action forbidden") keeps invoke-rc.d and deb-systemd-invoke from starting it.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=1
  fi
  rc=0
  $SUDO apt-get update -qq || rc=$?
  ((rc)) || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || rc=$?
  [ "$own_policy" = 0 ] || $SUDO rm -f "$policy"
  ((rc == 0)) || exit "$rc"
  if [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now knot >/dev/null 2>&1 || true
  fi
fi

if [ "${CDNS_SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)"
fi
