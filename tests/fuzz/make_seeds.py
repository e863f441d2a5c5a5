#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/seeds/ (committed; rerun only to change them).

  tests/fuzz/make_seeds.py            # from the repository root

fuzz_respond: queries for every kind of answer the kube-dns walkthrough table gives (the fuzz
target builds that table), plus EDNS and malformed variants. fuzz_name_reader: messages whose
names use compression pointers, and a few broken ones. fuzz_cache: upstream answers (positive,
a CNAME chain with pointers into the body, NXDOMAIN and NODATA with an SOA, MX, a cluster name).
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def name(dotted):
    out = b""
    for label in dotted.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def header(qd=1, an=0, ns=0, ar=0, flags=0x0100, ident=0x1234):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def opt(udp=1232, version=0, do=False, options=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack(">HHIH", 41, udp, ttl, len(options)) + options


def query(qname, qtype=1, qclass=1, edns=None, **kw):
    msg = header(ar=1 if edns is not None else 0, **kw) + name(qname) + struct.pack(">HH", qtype, qclass)
    if edns is not None:
        msg += edns
    return msg


COOKIE = struct.pack(">HH", 10, 8) + bytes(range(1, 9))

RESPOND = {
    "a_redis": query("redis-master.default.svc.cluster.local"),
    "a_mixed_case_edns": query("ReDiS-MaStEr.DeFaUlT.SvC.ClUsTeR.LoCaL", edns=opt(do=True)),
    "a_legacy": query("redis-master.default.cluster.local"),
    "srv_named_port": query("_dns._udp.kube-dns.kube-system.svc.cluster.local", 33),
    "srv_headless": query("_http._tcp.nginx.default.svc.cluster.local", 33, edns=opt()),
    "srv_headless_legacy": query("big.default.cluster.local", 33),
    "aaaa_dual": query("dual.default.svc.cluster.local", 28),
    "cname_external": query("search.default.svc.cluster.local", 1),
    "ptr_v4": query("160.7.254.10.in-addr.arpa", 12),
    "ptr_v6": query("9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.5.2.0.0.1.0.0.0.0.d.f.ip6.arpa", 12),
    "pod_v4": query("10-244-1-5.default.pod.cluster.local", 1),
    "pod_v6": query("fd00--5.default.pod.cluster.local", 28),
    "big_tc": query("big.default.svc.cluster.local", 1),
    "big_edns": query("big.default.svc.cluster.local", 1, edns=opt(udp=4096)),
    "nxdomain": query("nothing.default.svc.cluster.local"),
    "nodata": query("redis-master.default.svc.cluster.local", 16),
    "soa_apex": query("cluster.local", 6, edns=opt()),
    "ns_apex": query("cluster.local", 2),
    "txt_version": query("dns-version.cluster.local", 16),
    "any": query("kube-dns.kube-system.svc.cluster.local", 255),
    "outside": query("www.example.com"),
    "edns_cookie": query("redis-master.default.svc.cluster.local", edns=opt(options=COOKIE)),
    "edns_badvers": query("redis-master.default.svc.cluster.local", edns=opt(version=1)),
    "class_ch": query("version.bind", 16, qclass=3),
    "axfr": query("cluster.local", 252),
    "notify": query("cluster.local", 6, flags=4 << 11),
    "two_opts": header(ar=2) + name("cluster.local") + struct.pack(">HH", 6, 1) + opt() + opt(),
    "pointer_question": header() + b"\xc0\x0c" + struct.pack(">HH", 1, 1),
    "trailing": query("cluster.local", 6) + b"\x00\x00",
    "short": header()[:7],
}

# 12: example.com.  25: www -> 12  31: mail -> 12  38: a -> 25 (a chain of two pointers); then a
# compressed response and a few broken names.
base = header(qd=1) + name("example.com") + b"\x03www\xc0\x0c" + b"\x04mail\xc0\x0c" + b"\x01a\xc0\x19"
NAME_READER = {
    "compressed": base,
    "response": (header(qd=1, an=2, flags=0x8580) + name("web.default.svc.cluster.local") +
                 struct.pack(">HH", 1, 1) +
                 b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 30, 8) + b"\x05other\xc0\x10" +
                 b"\xc0\x2f" + struct.pack(">HHIH", 1, 1, 30, 4) + b"\x0a\x00\x00\x01"),
    "loop": header() + b"\x01a\xc0\x0c",
    "self": header() + b"\xc0\x0c",
    "forward": header() + b"\xc0\x0e\x00",
    "label64": header() + b"\x40" + b"x" * 64 + b"\x00",
    "long": header() + (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"b" * 61 + b"\x00",
    "root": header() + b"\x00",
}


# fuzz_cache: upstream answers (QR|RD|RA), each as an upstream would send it.
def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def soa(zone, ttl, minimum):
    rdata = name("ns." + zone) + name("hostmaster." + zone) + struct.pack(">IIIII", 1, 7200, 1800, 86400, minimum)
    return rr(name(zone), 6, ttl, rdata)


Q_WWW = name("www.example.com") + struct.pack(">HH", 1, 1)
CACHE = {
    "a": header(an=1, flags=0x8180) + Q_WWW + rr(b"\xc0\x0c", 1, 300, b"\xc0\x00\x02\x01"),
    # www CNAME web.<question's example.com>; web A (owner: pointer to the CNAME target)
    "cname_chain": (header(an=2, flags=0x8180) + Q_WWW +
                    rr(b"\xc0\x0c", 5, 300, b"\x03web\xc0\x10") +
                    rr(b"\xc0\x2d", 1, 60, b"\xc0\x00\x02\x02")),
    "nxdomain": header(ns=1, flags=0x8183) + Q_WWW + soa("example.com", 3600, 30),
    "nodata_edns": (header(ns=1, ar=1, flags=0x8180) + name("www.example.com") + struct.pack(">HH", 28, 1) +
                    soa("example.com", 60, 300) + opt()),
    "mx": (header(an=1, flags=0x8180) + name("example.com") + struct.pack(">HH", 15, 1) +
           rr(b"\xc0\x0c", 15, 300, struct.pack(">H", 10) + b"\x04mail\xc0\x0c")),
    "cluster_name": (header(an=1, flags=0x8180) + name("redis-master.default.svc.cluster.local") +
                     struct.pack(">HH", 1, 1) + rr(b"\xc0\x0c", 1, 30, b"\x0a\x00\x00\x01")),
}


def write(corpus, seeds):
    d = os.path.join(ROOT, corpus)
    os.makedirs(d, exist_ok=True)
    for key, data in sorted(seeds.items()):
        with open(os.path.join(d, key), "wb") as f:
            f.write(data)


write("fuzz_respond", RESPOND)
write("fuzz_name_reader", NAME_READER)
write("fuzz_cache", CACHE)
