#!/usr/bin/env bash
# Control-plane benchmark (issue 3): 100k Services and 100k EndpointSlices in the fake Kubernetes
# API server over loopback HTTP; clusterdns (a child process) syncs and serves on a kernel UDP
# socket. Prints, per run: initial sync (start → first answer for the last Service), programming
# latency of 1000 single-Service changes at 100/s (event emitted → new answer on the socket,
# p50/p99/max), a forced relist of both kinds (RSS before/peak, answers throughout), and peak RSS.
# Not a test: run it by hand and copy the figures into README.md.
#   scripts/bench-controlplane.sh [runs=3] [services=100000] [changes=1000] [rate=100]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
runs=${1:-3}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores; clusterdns, the fake API server and the client share them); $(date -u +%Y-%m-%d)"
for run in $(seq "$runs"); do
  echo "--- run $run"
  build/bench/controlplane_bench build/controlplane/clusterdns "${2:-100000}" "${3:-1000}" "${4:-100}" 2>/dev/null
done
