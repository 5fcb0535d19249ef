#!/usr/bin/env python3
"""Slow clients against a running Onramp: opens N connections that send half
a request's headers and never finish, then times GET /healthz on fresh
connections while they are held, and counts how many of the N the server
has closed after --wait seconds.

    python3 bench/slowloris.py --port 8080 --connections 1000 --wait 12
"""
import argparse
import socket
import statistics
import time


def healthz(port: int, timeout: float) -> float | None:
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = s.recv(64)
            if not data.startswith(b"HTTP/1.1 200"):
                return None
    except OSError:
        return None
    return time.monotonic() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--wait", type=float, default=12.0, help="seconds before counting closed connections")
    args = ap.parse_args()

    held = []
    for _ in range(args.connections):
        s = socket.create_connection(("127.0.0.1", args.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        held.append(s)
    print(f"holding {len(held)} half-sent requests")
    times = [healthz(args.port, 10.0) for _ in range(20)]
    ok = [t for t in times if t is not None]
    if ok:
        print(f"/healthz while held: {len(ok)}/20 answered, median {statistics.median(ok) * 1000:.1f} ms, max {max(ok) * 1000:.1f} ms")
    else:
        print("/healthz while held: 0/20 answered")
    time.sleep(args.wait)
    closed = 0
    for s in held:
        s.settimeout(0.05)
        try:
            if s.recv(1) == b"":
                closed += 1
        except socket.timeout:
            pass
        except OSError:
            closed += 1
    print(f"after {args.wait:.0f} s: {closed}/{len(held)} closed by the server")


if __name__ == "__main__":
    main()
