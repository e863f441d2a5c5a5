#!/usr/bin/env python3
"""Generates the forwarding mix of scripts/bench-dnsperf.sh (--mix forward): a zone of external
names that the benchmark's own Knot serves (the upstream clusterdns forwards to, and the "Knot
directly" baseline), and one dnsperf query file that asks each name as a pod would.

  gen_forward_mix.py --zone ext.test.zone --queries mix.txt [--names 1000] [--seed 1]
                     [--ext-domain ext.test] [--domain cluster.local] [--namespace default]

Deterministic: the same arguments give byte-identical files (random.Random(seed), no clock).

The zone: host-0 .. host-(N-1) under --ext-domain, one A record each, TTL 3600 (so that they stay
in clusterdns's cache for the whole run), addresses from 198.19.0.0/16 (data only: nothing is ever
sent to them), plus the SOA and NS the zone needs.

The query file: the names in a shuffled order; each one as a pod in namespace --namespace with
`search NS.svc.Z svc.Z Z` and `ndots:5` resolves it, four lines in a row:
  host-K.ext.test.NS.svc.Z A    NXDOMAIN from the cluster zone (clusterdns answers it itself)
  host-K.ext.test.svc.Z A       NXDOMAIN
  host-K.ext.test.Z A           NXDOMAIN
  host-K.ext.test A             the name: forwarded once, then answered from the cache
"""
import argparse
import random
import sys

MAX_NAMES = 250 * 250


def host_address(k):
    # 198.19.1.1 upward, 250 per /24, never .0 or .255.
    return "198.19.%d.%d" % (1 + k // 250, 1 + k % 250)


def zone_text(names, ext):
    lines = [
        "$ORIGIN %s." % ext,
        "$TTL 3600",
        "@ 3600 IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 3600" % (ext, ext),
        "@ 3600 IN NS ns.%s." % ext,
        "ns 3600 IN A 198.19.0.53",
    ]
    lines += ["host-%d 3600 IN A %s" % (k, host_address(k)) for k in range(names)]
    return "\n".join(lines) + "\n"


def queries(names, ext, domain, namespace, rng):
    order = list(range(names))
    rng.shuffle(order)
    search = ["%s.svc.%s" % (namespace, domain), "svc.%s" % domain, domain]
    out = []
    for k in order:
        name = "host-%d.%s" % (k, ext)
        out += ["%s.%s A" % (name, suffix) for suffix in search]
        out.append("%s A" % name)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ext-domain", default="ext.test")
    ap.add_argument("--domain", default="cluster.local")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--zone", required=True)
    ap.add_argument("--queries", required=True)
    a = ap.parse_args()
    if not 1 <= a.names <= MAX_NAMES:
        sys.exit("gen_forward_mix.py: --names must be between 1 and %d" % MAX_NAMES)
    ext, domain = a.ext_domain.strip("."), a.domain.strip(".")
    if ext == domain or ext.endswith("." + domain):
        sys.exit("gen_forward_mix.py: --ext-domain %s is inside the cluster zone %s" % (ext, domain))
    rng = random.Random(a.seed)
    with open(a.zone, "w") as f:
        f.write(zone_text(a.names, ext))
    with open(a.queries, "w") as f:
        for line in queries(a.names, ext, domain, a.namespace, rng):
            f.write(line + "\n")


if __name__ == "__main__":
    main()
