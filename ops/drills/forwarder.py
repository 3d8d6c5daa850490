#!/usr/bin/env python3
"""A TCP forwarder standing in for the stable database address of a real deployment
(a virtual IP, a DNS name with a short TTL, PgBouncer or HAProxy in front of
PostgreSQL). Yui connects to it; it connects each new connection to the address
written in TARGET_FILE ("host:port"), read at every accept. Repointing is writing
that file: connections opened afterwards reach the new primary, without touching
Yui. Connections to a server that died are closed with it, as they would be.

usage: forwarder.py LISTEN_PORT TARGET_FILE
"""

import asyncio
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


def target(path):
    with open(path, encoding="utf-8") as f:
        host, port = f.read().strip().rsplit(":", 1)
    return host, int(port)


async def handle(client_reader, client_writer, path):
    try:
        host, port = target(path)
        server_reader, server_writer = await asyncio.open_connection(host, port)
    except (OSError, ValueError):
        # Nothing listens there (the primary is down, not yet repointed): refuse,
        # as a VIP with no holder does; the pool retries.
        client_writer.close()
        return
    await asyncio.gather(
        pipe(client_reader, server_writer), pipe(server_reader, client_writer)
    )


async def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, path), "127.0.0.1", port
    )
    print(f"forwarding 127.0.0.1:{port} -> {path}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
