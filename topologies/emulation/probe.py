#!/usr/bin/python3
"""A 1 kHz UDP probe across the emulated wire: the sender numbers its datagrams, the receiver
reports what arrived, what was lost or late, and the largest gap between two arrivals (what a
rekey costs a flow). JSON on stdout.

  probe.py send ADDRESS PORT SECONDS [RATE]
  probe.py receive PORT SECONDS
"""
import json
import socket
import struct
import sys
import time


def send(address, port, seconds, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    interval = 1.0 / rate
    start = time.monotonic()
    n = 0
    refused = 0
    while True:
        due = start + n * interval
        now = time.monotonic()
        if now - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        try:
            s.sendto(struct.pack("!Id", n, time.time()) + b"\0" * 52, (address, port))
        except OSError:
            refused += 1  # the host's interface is down (no route): the datagram never left
        n += 1
    print(json.dumps({"sent": n - refused, "refused": refused, "rate": rate}))


def receive(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    end = time.monotonic() + seconds
    seen = set()
    last = None
    max_gap = 0.0
    highest = -1
    reordered = 0
    while time.monotonic() < end:
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            continue
        now = time.monotonic()
        (n, _) = struct.unpack("!Id", data[:12])
        if n < highest:
            reordered += 1
        highest = max(highest, n)
        seen.add(n)
        if last is not None:
            max_gap = max(max_gap, now - last)
        last = now
    lost = (highest + 1 - len(seen)) if highest >= 0 else 0
    print(json.dumps({"received": len(seen), "highest": highest, "lost": lost,
                      "reordered": reordered, "max_gap_ms": round(max_gap * 1000, 3)}))


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
             float(sys.argv[5]) if len(sys.argv) > 5 else 1000.0)
    elif len(sys.argv) == 4 and sys.argv[1] == "receive":
        receive(int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit(__doc__)
