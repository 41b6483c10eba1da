#!/usr/bin/python3
"""odd-service.py: the lab's badly behaved services, for `vigie probe`.

Usage: odd-service.py ADDRESS MODE:PORT [MODE:PORT...]
  garbage  sends 2 KiB of fixed pseudo-random bytes on connect and after
           every read, then closes after 10 s (a service that answers
           garbage)
  hang     accepts and never says anything; closes after 60 s (a service
           that hangs)
  silent   accepts and closes at once (the out-of-scope listener: any
           connection to it is a failure of the probe)

Every connection is logged on stdout (`accept PORT FROM`), so a test can
tell who came. Bounded: each connection lives 60 s at most.
"""

import asyncio
import random
import sys

# Fixed seed: the same garbage on every run, so that a failure reproduces.
GARBAGE = random.Random(5).randbytes(2048)


async def garbage(reader, writer):
    writer.write(GARBAGE)
    await writer.drain()
    try:
        while await asyncio.wait_for(reader.read(4096), 10):
            writer.write(GARBAGE)
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError):
        pass


async def hang(reader, _writer):
    try:
        while await asyncio.wait_for(reader.read(4096), 60):
            pass
    except (asyncio.TimeoutError, ConnectionError):
        pass


async def silent(_reader, _writer):
    pass


MODES = {"garbage": garbage, "hang": hang, "silent": silent}


def handler(mode, port):
    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        print(f"accept {port} {peer[0] if peer else '?'}", flush=True)
        try:
            await asyncio.wait_for(MODES[mode](reader, writer), 60)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return handle


async def main(address, specs):
    servers = []
    for spec in specs:
        mode, _, port = spec.partition(":")
        if mode not in MODES or not port.isdigit():
            sys.exit(f"bad service {spec!r}: MODE:PORT with MODE in {sorted(MODES)}")
        servers.append(await asyncio.start_server(handler(mode, port), address, int(port)))
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
