#!/usr/bin/env python3
"""The pcap side of clusterdns_pcap_forward_test.sh: writes the capture of queries it replays and
checks the captures the two TX queues wrote. Pure Python (struct), no capture library.

  pcap_forward.py write IN.pcap
  pcap_forward.py check OUT0.pcap OUT1.pcap     exit 1 with the reason when they are not right
"""
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def write_queries(path):
    def name(dotted):
        return b"".join(bytes([len(l)]) + l.encode() for l in dotted.split(".")) + b"\0"

    def frame(qid, qname, sport):
        dns = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name(qname) + struct.pack("!HH", 1, 1)
        src, dst = bytes([198, 18, 0, 2]), bytes([198, 18, 0, 53])
        udp = struct.pack("!HHHH", sport, 53, 8 + len(dns), 0) + dns
        pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp))
        udp = udp[:6] + struct.pack("!H", csum(pseudo + udp)) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = bytes.fromhex("027063617000") + bytes.fromhex("020000000002") + b"\x08\x00"
        return eth + ip + udp

    frames = [frame(0x1111, "redis-master.default.svc.cluster.local", 40001),
              frame(0x2222, "redis-master.default.svc.example.test", 40002)]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)


def check_replies(out0, out1):
    def frames(path):
        data = open(path, "rb").read()
        pos, out = 24, []
        while pos + 16 <= len(data):
            incl = struct.unpack("<IIII", data[pos:pos + 16])[2]
            out.append(data[pos + 16:pos + 16 + incl])
            pos += 16 + incl
        return out

    def dns_replies(path):
        out = {}
        for f in frames(path):
            if f[12:14] != b"\x08\x00" or f[23] != 17:
                continue  # not IPv4/UDP: the kernel's own frames (exception path)
            ip, udp = f[14:34], f[34:]
            assert csum(ip) == 0, "%s: IPv4 header checksum" % path
            assert f[0:6] == bytes.fromhex("020000000002") and f[6:12] == bytes.fromhex("027063617000"), "%s: MACs" % path
            assert ip[12:16] == bytes([198, 18, 0, 53]) and ip[16:20] == bytes([198, 18, 0, 2]), "%s: addresses" % path
            pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(udp))
            assert csum(pseudo + udp) == 0, "%s: UDP checksum" % path
            sport, dport = struct.unpack("!HH", udp[0:4])
            dns = udp[8:]
            qid, flags, qd, an = struct.unpack("!HHHH", dns[0:8])
            assert sport == 53, "%s: source port %d" % (path, sport)
            assert flags & 0x8000, "%s: not a response" % path
            out[qid] = (dport, flags, an, dns)
        return out

    q0, q1 = dns_replies(out0), dns_replies(out1)
    assert set(q0) == {0x1111}, "queue 0 DNS replies: %s" % sorted(map(hex, q0))
    assert set(q1) == {0x2222}, "queue 1 (slow path) DNS replies: %s" % sorted(map(hex, q1))
    # The capture is replayed as the appliance starts, maybe before the objects file's first table:
    # the worker's reply may be the zone's NXDOMAIN, but it is the worker's (authoritative).
    assert q0[0x1111][0] == 40001 and q0[0x1111][1] & 0x0400, "the worker's reply: port or AA"
    dport, flags, an, dns = q1[0x2222]
    assert dport == 40002, "the forwarded reply's port"
    assert (flags & 0xf) == 0 and an >= 1 and bytes([10, 254, 7, 160]) in dns, "the upstream's answer"
    assert len(frames(out1)) == 1, "queue 1 holds %d frames" % len(frames(out1))
    print("ok: queue 0 has the worker's answer, queue 1 only the forwarded one")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write_queries(sys.argv[2])
    else:
        check_replies(sys.argv[2], sys.argv[3])
