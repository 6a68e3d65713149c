"""`make load` (also run by `make test`): a few thousand mixed requests at concurrency 32 against
the server on the moto emulator. Passes when no request got a 5xx, no acknowledged upload is
lost or changed, every acknowledged delete left nothing, and the server's memory settles back
near its idle level.

Run through scripts/with-moto.sh. BENCH_BINARY picks the binary (default: the debug build
that `cargo test` made).
"""
import base64
import json
import os
import random
import sys
import threading
import time
import subprocess
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_DIR = subprocess.run([os.path.join(HERE, "..", "scripts", "target-dir")], check=True, capture_output=True, text=True).stdout.strip()
os.environ.setdefault("BENCH_BINARY", os.path.join(TARGET_DIR, "debug", "image-api"))
sys.path.insert(0, os.path.dirname(__file__))
from bench import MIB, Server, call, concurrently, setup, status_kib  # noqa: E402

REQUESTS = int(os.environ.get("LOAD_REQUESTS", "3000"))
CONCURRENCY = 32
# glibc keeps some freed memory in its arenas; "near idle" allows for that, not for a leak.
SETTLE_SLACK_MIB = 24


def main():
    name = f"load-{uuid.uuid4().hex[:8]}"
    setup(name)
    server = Server(name, name)
    time.sleep(0.3)
    idle = status_kib(server.pid, "VmRSS")

    lock = threading.Lock()
    uploaded = {}  # id -> bytes, for acknowledged uploads
    deleted = set()
    failures = []
    counter = iter(range(REQUESTS))
    rng = random.Random(20261125)

    def image(size):
        head = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0"
        return head + rng.randbytes(size)

    def one(conn):
        with lock:
            roll = rng.random()
            known = list(uploaded) if uploaded else []
            target = rng.choice(known) if known else None
            size = rng.choice([1024, 16 * 1024, 64 * 1024])
            data = image(size)
        if roll < 0.35 or target is None:
            if roll < 0.2:
                body = json.dumps({"file_name": "load.png", "content": base64.b64encode(data).decode()})
                status, reply = call(conn, "POST", "/images", body, {"Content-Type": "application/json"})
            else:
                status, reply = call(conn, "POST", "/images?file_name=load.png", data, {"Content-Type": "image/png"})
            if status == 201:
                with lock:
                    uploaded[json.loads(reply)["id"]] = data
            return "upload", status
        if roll < 0.55:
            return "get", call(conn, "GET", f"/images/{target}")[0]
        if roll < 0.75:
            return "content", call(conn, "GET", f"/images/{target}/content")[0]
        if roll < 0.9:
            return "list", call(conn, "GET", "/images?limit=20")[0]
        with lock:
            if target not in uploaded:
                return "delete", 404
            del uploaded[target]
        status = call(conn, "DELETE", f"/images/{target}")[0]
        with lock:
            if status == 204:
                deleted.add(target)
            else:
                uploaded[target] = None  # outcome unknown: checked loosely below
        return "delete", status

    def worker():
        conn = server.connection()
        while True:
            try:
                next(counter)
            except StopIteration:
                return
            try:
                op, status = one(conn)
            except Exception as error:  # a dropped connection is a failure, not a crash
                with lock:
                    failures.append(("connection", repr(error)))
                conn = server.connection()
                continue
            if status >= 500 or (op in ("get", "content") and status not in (200, 404)):
                with lock:
                    failures.append((op, status))

    elapsed = concurrently(worker, CONCURRENCY)
    peak = status_kib(server.pid, "VmHWM")

    # Nothing acknowledged is lost; nothing deleted remains.
    conn = server.connection()
    lost = [i for i, data in uploaded.items() if data is not None and call(conn, "GET", f"/images/{i}/content") != (200, data)]
    remaining = [i for i in deleted if call(conn, "GET", f"/images/{i}")[0] != 404]
    time.sleep(1.0)
    settled = status_kib(server.pid, "VmRSS")
    server.stop()

    print(f"load: {REQUESTS} requests at concurrency {CONCURRENCY} in {elapsed:.1f} s ({REQUESTS / elapsed:.0f} req/s)")
    print(f"  acknowledged uploads kept: {len(uploaded)}, deletes: {len(deleted)}")
    print(f"  memory: idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, settled {settled / 1024:.1f} MiB")
    problems = []
    if failures:
        problems.append(f"{len(failures)} failed requests, e.g. {failures[:5]}")
    if lost:
        problems.append(f"{len(lost)} acknowledged uploads lost or changed: {lost[:5]}")
    if remaining:
        problems.append(f"{len(remaining)} deleted images still answer: {remaining[:5]}")
    if settled > idle + SETTLE_SLACK_MIB * 1024:
        problems.append(f"memory did not settle: {settled / 1024:.1f} MiB vs idle {idle / 1024:.1f} MiB")
    for problem in problems:
        print(f"  FAIL: {problem}")
    print("load: 1 passed, 0 failed" if not problems else "load: 0 passed, 1 failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
