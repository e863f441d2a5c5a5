# Sourced by the end-to-end tests that run the clusterdns binary with its DPDK dataplane: a server
# namespace where clusterdns owns one end of a veth pair through net_af_packet, and a client
# namespace on the other end (198.18.0.2, 2001:2::2). Defines ns_server, ns_client, work,
# objects (a copy of the walkthrough cluster the test may edit), pid, http_port (once started
# with --http-addr), fail and cleanup.
#   source appliance_testbed.sh; testbed_up TAG SOURCE_DIR; testbed_start CLUSTERDNS [options]
# Safety (DESIGN.md "Test topology and safety"): the namespaces and veths are named after the
# test's PID and removed on exit however it exits; addresses from 198.18.0.0/15 and 2001:2::/48
# only; --no-pci --no-huge and a unique --file-prefix; clusterdns is stopped by its PID.
# Exit 77 (ctest's skip) without root, kdig or ethtool.

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; echo "--- clusterdns log"; tail -30 "$work/clusterdns.log" || true; exit 1; }

testbed_cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  [ -n "$pid" ] && { wait "$pid" 2>/dev/null || true; }
  ip netns del "$ns_client" 2>/dev/null || true
  ip netns del "$ns_server" 2>/dev/null || true
  rm -rf "$work"
  rmdir "/var/run/dpdk/$prefix" 2>/dev/null || true
}

# testbed_up TAG SOURCE_DIR: TAG is one letter, to keep the veth names within 15 bytes.
testbed_up() {
  local tag=$1 src=$2
  [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
  command -v kdig >/dev/null || skip "kdig (knot-dnsutils) not installed"
  command -v ethtool >/dev/null || skip "ethtool not installed (veth TX checksum offload must be off)"
  local id=$$
  ns_server="cdns-e2e$tag-$id-server"
  ns_client="cdns-e2e$tag-$id-client"
  veth_server="cdn$tag${id}s"
  veth_client="cdn$tag${id}c"
  prefix="cdns-e2e$tag-$id"
  work=$(mktemp -d)
  pid=""
  http_port=""
  trap testbed_cleanup EXIT
  objects=$work/objects.json
  cp "$src/tests/testdata/objects/kube_dns_walkthrough.json" "$objects"

  ip netns add "$ns_server"
  ip netns add "$ns_client"
  ip link add "$veth_server" type veth peer name "$veth_client"
  ip link set "$veth_server" netns "$ns_server"
  ip link set "$veth_client" netns "$ns_client"
  # Server side: no IPv6 in the kernel on the veth. af_packet also leaves every frame to the kernel,
  # and the served addresses live on clusterdns's exception TAP: strict reverse-path filtering
  # keeps the kernel from answering what arrives on the veth (every UDP query twice, otherwise).
  ip netns exec "$ns_server" sysctl -qw "net.ipv6.conf.$veth_server.disable_ipv6=1"
  ip netns exec "$ns_server" sysctl -qw net.ipv4.conf.all.rp_filter=1 "net.ipv4.conf.$veth_server.rp_filter=1"
  ip -n "$ns_server" link set lo up
  ip -n "$ns_server" link set "$veth_server" up
  ip -n "$ns_client" link set lo up
  ip -n "$ns_client" addr add 198.18.0.2/24 dev "$veth_client"
  ip -n "$ns_client" addr add 2001:2::2/64 dev "$veth_client" nodad
  ip -n "$ns_client" link set "$veth_client" up
  # The client's UDP checksums must be real: af_packet sees frames before any NIC fills them in.
  ip netns exec "$ns_client" ethtool -K "$veth_client" tx off >/dev/null
}

# testbed_start CLUSTERDNS [options]: clusterdns on the server's veth, serving 198.18.0.53 and
# 2001:2::53 from $objects, with the given options after the EAL's "--"; waits until it serves
# and, when it has an HTTP server (--http-addr=127.0.0.1:0; its port is then $http_port), until
# /ready says the objects file's first table is published.
testbed_start() {
  local clusterdns=$1
  shift
  # CDNS_TESTBED_PMD=af_xdp: net_af_xdp on the veth's one queue instead of net_af_packet (its RX
  # mbufs sit in the fill ring, so a path that holds mbufs starves RX sooner).
  local vdev="net_af_packet0,iface=$veth_server"
  if [ "${CDNS_TESTBED_PMD:-af_packet}" = af_xdp ]; then
    vdev="net_af_xdp0,iface=$veth_server,start_queue=0,queue_count=1"
  fi
  ip netns exec "$ns_server" "$clusterdns" --no-pci --no-huge -m 256 --no-shconf --no-telemetry \
    "--file-prefix=$prefix" -l 0 "--vdev=$vdev" -- \
    --ip=198.18.0.53,2001:2::53 --objects-file="$objects" --service-cidr=10.254.0.0/16 \
    --upstream=none "$@" \
    >"$work/clusterdns.out" 2>"$work/clusterdns.log" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "clusterdns: serving" "$work/clusterdns.log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "clusterdns: serving" "$work/clusterdns.log"; then
    if [ "${CDNS_TESTBED_PMD:-af_packet}" = af_xdp ] && grep -qi "xdp" "$work/clusterdns.log"; then
      tail -5 "$work/clusterdns.log"
      skip "net_af_xdp cannot start on a veth here"
    fi
    fail "clusterdns did not start"
  fi
  # "serving" is printed once the listeners have a table, which may still be the zone apexes
  # alone: the objects file's first build is published after. /ready says when it is (CI's ASan
  # build once asked first and got NXDOMAIN).
  http_port=$(sed -n 's/^clusterdns: serving .* http [^ ]* (port \([0-9]*\)).*/\1/p' \
    "$work/clusterdns.log" | head -1)
  [ -n "$http_port" ] || return 0
  local _
  for _ in $(seq 100); do
    ip netns exec "$ns_server" curl -sf "http://127.0.0.1:$http_port/ready" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "clusterdns exited before /ready"
    sleep 0.1
  done
  fail "/ready never said ready (http port $http_port)"
}
