#!/usr/bin/env python3
"""Imports COUNT accounts through POST /v1/partners/accounts/batch (1,000 a
call, over one keep-alive connection) and writes samples for bench/scale.sh.

    import_accounts.py BASE_URL HOST API_KEY COUNT EMAIL_PREFIX OUT_DIR

Every item carries the same precomputed bcrypt cost-4 hash, so the import
measures validation and writes, not hashing. OUT_DIR receives:
  ids.txt     1,000 account ids spread evenly over the import order
  emails.txt  the emails of those accounts
  cursor.txt  the id of the account imported at 90 %: the cursor of a deep page
  seconds.txt the wall time of the whole import
Ids are UUIDv7, so import order is id order up to ties within a millisecond:
the cursor's page lies about 90 % into the list.
"""

import http.client
import json
import os
import sys
import time
import urllib.parse

BATCH = 1000
SAMPLES = 1000
# A valid bcrypt hash at the lowest cost (4): nothing at import time hashes.
CHEAP_HASH = "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie"


def main() -> None:
    base, host, key, count, prefix, out = sys.argv[1:7]
    count = int(count)
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"Host": host, "x-api-key": key, "Content-Type": "application/json"}
    every = max(1, count // SAMPLES)
    cursor_at = count * 9 // 10
    ids, emails, cursor = [], [], None
    started = time.monotonic()
    for first in range(0, count, BATCH):
        n = min(BATCH, count - first)
        items = [
            {"primaryEmail": f"{prefix}{first + i}@example.com", "passwordHash": CHEAP_HASH, "firstName": "Bench"}
            for i in range(n)
        ]
        conn.request("POST", "/v1/partners/accounts/batch", json.dumps({"accounts": items}), headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit(f"batch at {first}: HTTP {resp.status}: {body[:500]!r}")
        results = json.loads(body)["results"]
        failed = [r for r in results if r["status"] != 201]
        if failed:
            sys.exit(f"batch at {first}: {len(failed)} items not created, first: {failed[0]}")
        for r in results:
            position = first + r["index"]
            if position % every == 0 and len(ids) < SAMPLES:
                ids.append(r["accountId"])
                emails.append(f"{prefix}{position}@example.com")
            if position == cursor_at:
                cursor = r["accountId"]
        done = first + n
        if done % 100_000 == 0:
            rate = done / (time.monotonic() - started)
            print(f"  imported {done:,} of {count:,} ({rate:,.0f} accounts/s)", file=sys.stderr, flush=True)
    seconds = time.monotonic() - started
    os.makedirs(out, exist_ok=True)
    for name, lines in [("ids.txt", ids), ("emails.txt", emails), ("cursor.txt", [cursor]), ("seconds.txt", [f"{seconds:.1f}"])]:
        with open(os.path.join(out, name), "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
