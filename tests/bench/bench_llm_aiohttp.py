"""The peer of bench_llm_load in the client-overhead benchmark: a Python
asyncio client (aiohttp) keeping CONCURRENCY chat-completion POSTs
outstanding against URL for SECONDS (the first WARMUP not counted), parsing
every reply as JSON. Prints one JSON line like bench_llm_load.
usage: bench_llm_aiohttp.py URL CONCURRENCY SECONDS WARMUP"""
import asyncio
import json
import sys
import time

import aiohttp


async def worker(session, url, t_warm, t_end, counts, wid):
    i = 0
    while True:
        now = time.monotonic()
        if now >= t_end:
            return
        i += 1
        body = {"model": "bench-model", "messages": [
            {"role": "system", "content": "You are a careful solver."},
            {"role": "user", "content": f"Problem id: a{wid}-{i}\nWhat is {i} + {i}?"}],
            "temperature": 0.7, "top_p": 1.0, "max_tokens": 4096, "seed": i, "stream": False}
        async with session.post(url, json=body) as r:
            data = await r.json(content_type=None)
            ok = r.status == 200 and "choices" in data
        if time.monotonic() >= t_warm and time.monotonic() < t_end:
            counts[0 if ok else 1] += 1


async def main():
    url, conc, seconds, warmup = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    counts = [0, 0]
    conn = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.monotonic()
        await asyncio.gather(*(worker(session, url, t0 + warmup, t0 + seconds, counts, w) for w in range(conc)))
    span = seconds - warmup
    print(json.dumps({"ranks": 1, "concurrency": conc, "rate": round(counts[0] / span, 1), "errors": counts[1],
                      "seconds": span}))


asyncio.run(main())
