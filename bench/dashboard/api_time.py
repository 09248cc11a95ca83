#!/usr/bin/python3
"""The coordinator's time to send a study's trials over HTTP: /trials
(protobuf JSON objects) against /columns (arrays: JSON, then binary; the
binary ones come uncompressed to this loopback client), in pages of 10,000 after
the cursor, asking gzip as a browser does. Per endpoint, the median of RUNS
full walks: wall time per 10,000 trials (request to last byte, gzip'd bytes
not decompressed), the server's own time (its histogram
caviar_http_request_duration_seconds: the answer built, before compression)
and the bytes sent. Prints one JSON line per endpoint.

  /usr/bin/python3 api_time.py HTTP_URL STUDY [RUNS=3]
"""
import json
import re
import statistics
import sys
import time
import urllib.request
import zlib

url, study = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3


def get(path, gzip=True):
    request = urllib.request.Request(url + path)
    if gzip:
        request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request) as reply:
        body = reply.read()
        encoded = reply.headers.get("Content-Encoding") == "gzip"
    return body, encoded


def server_seconds(route):
    text = get("/metrics", gzip=False)[0].decode()
    found = {}
    for series in ("sum", "count"):
        m = re.search(r'caviar_http_request_duration_seconds_%s\{route="%s"\} (\S+)'
                      % (series, re.escape(route)), text)
        found[series] = float(m.group(1)) if m else 0.0
    return found["sum"], found["count"]


def walk(endpoint, query):
    """Seconds in requests (the client's decompression and parsing aside),
    trials and bytes received."""
    after, trials, sent, wall = 0, 0, 0, 0.0
    while True:
        start = time.monotonic()
        body, encoded = get(f"/api/v1/studies/{study}/{endpoint}?{query}limit=10000&after={after}")
        wall += time.monotonic() - start
        sent += len(body)
        if encoded:
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if query:  # format=binary: the JSON header after its uint32 length.
            body = body[4:4 + int.from_bytes(body[:4], "little")]
        page = json.loads(body)
        trials += len(page["trials"]) if endpoint == "trials" else page["count"]
        after = page["next_after"]
        if not page["more"]:
            return wall, trials, sent


for endpoint, query in (("trials", ""), ("columns", ""), ("columns", "format=binary&")):
    route = "/api/v1/studies/{name}/" + endpoint
    walls, servers = [], []
    for _ in range(runs):
        before = server_seconds(route)[0]
        wall, trials, sent = walk(endpoint, query)
        walls.append(wall)
        servers.append(server_seconds(route)[0] - before)
    per = 10000 / trials
    print(json.dumps({"endpoint": endpoint + ("?" + query[:-1] if query else ""),
                      "trials": trials, "runs": runs,
                      "wall_ms_per_10k": [round(1000 * w * per) for w in sorted(walls)],
                      "server_ms_per_10k": [round(1000 * s * per) for s in sorted(servers)],
                      "gzip_mb": round(sent / 1e6, 2)}), flush=True)
