"""A fast webhook receiver for bench/webhooks.sh: answers every POST with
204 at once, counts distinct webhook-ids, and prints when the count reaches
each target (first request, then every 1,000) with the time since the first.
Usage: receiver.py PORT TOTAL"""
import asyncio
import sys
import time

PORT, TOTAL = int(sys.argv[1]), int(sys.argv[2])
seen = set()
requests = 0
first = None


async def handle(reader, writer):
    global requests, first
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, ident = 0, None
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    ident = value.strip()
            if length:
                await reader.readexactly(length)
            now = time.monotonic()
            if first is None:
                first = now
            requests += 1
            seen.add(ident)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            if len(seen) == TOTAL:
                print(f"{TOTAL} {now - first:.3f} {requests}", flush=True)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
