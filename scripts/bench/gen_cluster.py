#!/usr/bin/env python3
"""Generates the benchmark cluster for scripts/bench-dnsperf.sh: one objects file (a kubectl List
of Services and EndpointSlices, as `kubectl get services,endpointslices -A -o json` prints) and
one dnsperf query file whose names every server in the comparison answers the same way.

  gen_cluster.py --services 10000 --objects objects.json --queries queries.txt [--seed 1]
                 [--query-count 100000] [--domain cluster.local]

Deterministic: the same arguments give byte-identical files (random.Random(seed), no clock).

The cluster: Services spread over one namespace per 1000 (ns-0, ns-1, ...); ClusterIP Services
with 1-3 named ports (TCP, and UDP for "dns"), addresses from 10.96.0.0/12 in order; every tenth
Service headless with one EndpointSlice of 5 ready endpoints (10.244.0.0/16, no hostname, so each
gets its dashed name). IPv4 only.

The query mix (shuffled), all inside the cluster zone:
  30%  A     of a Service (svc form; 1 in 10 of them headless: 5 addresses)
  10%  SRV   of a named port (_p._tcp.s.n.svc.Z), the target's A in the additional section
  10%  AAAA  of a Service: NOERROR without data (IPv4-only Services)
  40%  A     search-path expansions of external names (github.com.n.svc.Z, github.com.svc.Z,
             github.com.Z): NXDOMAIN, as pods with ndots:5 send them
  10%  A     a Service that does not exist in an existing namespace (missing-N.n.svc.Z): NXDOMAIN
"""
import argparse
import json
import random
import sys

PORT_NAMES = ["http", "https", "grpc", "metrics", "admin", "redis", "dns"]
EXTERNAL = ["google.com", "api.stripe.com", "github.com", "s3.amazonaws.com",
            "registry.npmjs.org", "pypi.org", "login.microsoftonline.com", "api.github.com"]


def service_ip(i):
    # From 10.96.0.10 upward in 10.96.0.0/12 (room for a million Services).
    n = (96 << 16) + 10 + i
    return "10.%d.%d.%d" % ((n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)


def endpoint_ip(i, e):
    n = i * 5 + e + 1
    return "10.244.%d.%d" % ((n >> 8) & 0xFF, n & 0xFF)


def make_cluster(services, rng):
    namespaces = max(1, services // 1000)
    items, svcs = [], []
    for i in range(services):
        ns = "ns-%d" % (i % namespaces)
        name = "svc-%d" % i
        port_count = 1 + rng.randrange(3)
        ports = []
        for p in range(port_count):
            pname = PORT_NAMES[(i + p) % len(PORT_NAMES)]
            proto = "UDP" if pname == "dns" else "TCP"
            ports.append({"name": pname, "port": 8000 + p, "protocol": proto,
                          "targetPort": 9000 + p})
        headless = i % 10 == 9
        spec = {"type": "ClusterIP", "ports": ports, "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack"}
        if headless:
            spec["clusterIP"] = "None"
            spec["clusterIPs"] = ["None"]
        else:
            spec["clusterIP"] = service_ip(i)
            spec["clusterIPs"] = [service_ip(i)]
        items.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": name, "namespace": ns,
                                   "resourceVersion": str(1000 + i)},
                      "spec": spec})
        if headless:
            items.append({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "addressType": "IPv4",
                "metadata": {"name": name + "-abcde", "namespace": ns,
                             "labels": {"kubernetes.io/service-name": name},
                             "resourceVersion": str(500000 + i)},
                "endpoints": [{"addresses": [endpoint_ip(i, e)],
                               "conditions": {"ready": True, "serving": True,
                                              "terminating": False}}
                              for e in range(5)],
                "ports": [{"name": p["name"], "port": p["targetPort"],
                           "protocol": p["protocol"]} for p in ports],
            })
        svcs.append((ns, name, ports))
    return namespaces, items, svcs


def make_queries(count, namespaces, svcs, domain, rng):
    out = []
    for k in range(count):
        bucket = k % 10
        ns, name, ports = svcs[rng.randrange(len(svcs))]
        if bucket < 3:
            out.append("%s.%s.svc.%s A" % (name, ns, domain))
        elif bucket == 3:
            p = ports[rng.randrange(len(ports))]
            out.append("_%s._%s.%s.%s.svc.%s SRV" % (p["name"], p["protocol"].lower(), name, ns,
                                                     domain))
        elif bucket == 4:
            out.append("%s.%s.svc.%s AAAA" % (name, ns, domain))
        elif bucket < 9:
            ext = EXTERNAL[rng.randrange(len(EXTERNAL))]
            suffix = ["%s.svc.%s" % (ns, domain), "svc.%s" % domain, domain][rng.randrange(3)]
            out.append("%s.%s A" % (ext, suffix))
        else:
            out.append("missing-%d.%s.svc.%s A" % (rng.randrange(1000000), ns, domain))
    rng.shuffle(out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--query-count", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--domain", default="cluster.local")
    ap.add_argument("--objects", required=True)
    ap.add_argument("--queries", required=True)
    a = ap.parse_args()
    if a.services < 1 or a.query_count < 1:
        sys.exit("gen_cluster.py: --services and --query-count must be at least 1")
    rng = random.Random(a.seed)
    namespaces, items, svcs = make_cluster(a.services, rng)
    with open(a.objects, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                   "items": items}, f, separators=(",", ":"))
        f.write("\n")
    with open(a.queries, "w") as f:
        for line in make_queries(a.query_count, namespaces, svcs, a.domain, rng):
            f.write(line + "\n")


if __name__ == "__main__":
    main()
