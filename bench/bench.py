"""`make bench`: cold start, memory, CPU per upload and latency of the release binary against a
moto server, beside the in-process floor. Prints one table and writes bench/results.json in
cargo's target directory.

Run through scripts/with-moto.sh (it exports MOTO_ENDPOINT and MOTO_PID). Shared machines are
noisy: compare the ratios of one run, not absolute figures across runs.
"""
import base64
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

from runtime_api import RuntimeApi, rest_event

HERE = os.path.dirname(os.path.abspath(__file__))
# Wherever cargo puts its output (CARGO_TARGET_DIR included).
TARGET_DIR = subprocess.run([os.path.join(HERE, "..", "scripts", "target-dir")], check=True, capture_output=True, text=True).stdout.strip()
BINARY = os.environ.get("BENCH_BINARY", os.path.join(TARGET_DIR, "release", "image-api"))
RESULTS = os.path.join(TARGET_DIR, "bench", "results.json")
# The Python/boto3 design the service is judged against (bench/python_design/), measured the
# same way beside it.
PYTHON_DESIGN = [sys.executable, os.path.join(HERE, "python_design", "serve.py")]
PYTHON_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
ENDPOINT = os.environ["MOTO_ENDPOINT"]
MOTO_PID = int(os.environ["MOTO_PID"])
MIB = 1024 * 1024
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(size):
    head = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0"
    return head + os.urandom(size - len(head))


def cpu_seconds(pid):
    """User+system CPU of a whole process (all threads, finished ones too), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu_ns(pid):
    """Same, with nanosecond resolution: the sum of every thread's schedstat run time."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except FileNotFoundError:
            pass
    return total


def status_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid):
    """Sets the process's peak RSS (VmHWM) back to its current RSS, so that the next reading
    is the peak of what runs in between."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def start(command, bucket, table, **extra_env):
    """A quiet process of `command` with the bucket, table and emulator to use."""
    env = dict(os.environ, **extra_env, BUCKET_NAME=bucket, TABLE_NAME=table, LOCALSTACK_ENDPOINT=ENDPOINT, RUST_LOG="warn")
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Server:
    def __init__(self, bucket, table, command=None, **extra_env):
        self.port = free_port()
        self.started = time.perf_counter()
        self.process = start(command or [BINARY], bucket, table, BIND_ADDR=f"127.0.0.1:{self.port}", **extra_env)
        self.pid = self.process.pid
        self.ready_after = self.wait_ready()

    def wait_ready(self):
        deadline = self.started + 30
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args[0]} exited with status {self.process.returncode} before answering")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/images?limit=1")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                time.sleep(0.0005)
        raise RuntimeError("the server never answered")

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def upload(self, kind, image):
        if not hasattr(self, "conn"):
            self.conn = self.connection()
        (upload_json if kind == "json" else upload_raw)(self.conn, image)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return response.status, data


def concurrently(worker, count):
    """Runs `worker` on `count` threads at once; the wall time they took, in seconds."""
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def upload_json(conn, image):
    body = json.dumps({"file_name": "bench.png", "content": base64.b64encode(image).decode()})
    status, data = call(conn, "POST", "/images", body, {"Content-Type": "application/json"})
    assert status == 201, (status, data[:200])
    return json.loads(data)["id"]


def upload_raw(conn, image):
    status, data = call(conn, "POST", "/images?file_name=bench.png", image, {"Content-Type": "image/png"})
    assert status == 201, (status, data[:200])
    return json.loads(data)["id"]


def setup(name):
    env = dict(os.environ, LOCALSTACK_ENDPOINT=ENDPOINT, BUCKET_NAME=name, TABLE_NAME=name)
    subprocess.run(["./setup-localstack.sh"], env=env, check=True, stdout=subprocess.DEVNULL)


# Each measurement takes `launch`, which starts a Server or a LambdaFunction: both have a pid,
# `ready_after`, `upload(kind, image)` and `stop()`.
def cold_start(launch, runs=10):
    times = []
    for _ in range(runs):
        target = launch()
        times.append(target.ready_after * 1000)
        target.stop()
    return {"median_ms": statistics.median(times), "max_ms": max(times), "runs": times}


def memory(launch, kinds=("json", "raw")):
    result = {}
    for kind in kinds:
        target = launch()
        time.sleep(0.3)
        idle = status_kib(target.pid, "VmRSS")
        target.upload(kind, png(4 * MIB))
        peak = status_kib(target.pid, "VmHWM")
        target.stop()
        result[kind] = {"idle_kib": idle, "peak_kib": peak, "growth_mib": (peak - idle) / 1024}
    return result


def cpu_per_upload(target, kinds=("json", "raw"), cpu_ns=thread_cpu_ns):
    result = {}
    for label, size, count in [("64KiB", 64 * 1024, 200), ("4MiB", 4 * MIB, 20)]:
        image = png(size)
        for kind in kinds:
            target.upload(kind, image)  # warm-up
            before = cpu_ns(target.pid)
            for _ in range(count):
                target.upload(kind, image)
            result[f"{kind} {label}"] = (cpu_ns(target.pid) - before) / count
    return result


def python_reference(name):
    """Cold start, memory and CPU per JSON upload of the Python design (it has no raw upload).
    Its HTTP server runs a thread per connection, so CPU comes from the process's own totals,
    which keep finished threads; 200 and 20 uploads keep their 10 ms ticks under 2 %."""
    def launch():
        return Server(name, name, command=PYTHON_DESIGN, **PYTHON_ENV)

    cold, mem = cold_start(launch), memory(launch, kinds=("json",))
    server = launch()
    cpu = cpu_per_upload(server, kinds=("json",), cpu_ns=lambda pid: cpu_seconds(pid) * 1e9)
    server.stop()
    return {"cold_start": cold, "memory": mem, "cpu_per_upload_ns": cpu}


class LambdaFunction:
    """The binary in its Lambda mode, polling bench/runtime_api.py for API Gateway REST events."""

    def __init__(self, name):
        self.api = RuntimeApi()
        started = time.perf_counter()
        self.process = start([BINARY], name, name, **self.api.environment())
        self.pid = self.process.pid
        self.invoke(rest_event("GET", "/images", query={"limit": "1"}), expect=200)
        self.ready_after = time.perf_counter() - started

    def invoke(self, event, expect):
        answer = self.api.invoke(event)
        assert answer.get("statusCode") == expect, str(answer)[:300]

    def upload(self, kind, image):
        # Building a 4 MiB event takes the bench longer than the function takes to serve it.
        last_kind, last_image, event = getattr(self, "last", (None, None, None))
        if last_kind != kind or last_image is not image:
            event = upload_event(kind, image)
            self.last = (kind, image, event)
        self.invoke(event, expect=201)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.api.close()


def upload_event(kind, image):
    if kind == "json":
        body = json.dumps({"file_name": "bench.png", "content": base64.b64encode(image).decode()}).encode()
        return rest_event("POST", "/images", body, "application/json")
    # API Gateway hands binary bodies to Lambda in base64 (BinaryMediaTypes in template.yaml).
    return rest_event("POST", "/images", base64.b64encode(image), "image/png", {"file_name": "bench.png"}, True)


def lambda_mode(name):
    """Cold start, memory and CPU per invocation inside (emulated) Lambda."""
    def launch():
        return LambdaFunction(name)

    # In this order, as for the server: the first answer lists the table, and moto's listing
    # slows as the uploads fill it.
    cold, mem = cold_start(launch), memory(launch)
    function = launch()
    cpu = cpu_per_upload(function)
    function.stop()
    return {"cold_start": cold, "memory": mem, "cpu_per_invocation_ns": cpu, "thumbnail": lambda_thumbnail(name)}


# The 12 MP JPEG that bench/thumbnails.py generates (`make bench` runs it first).
PHOTO = os.path.join(TARGET_DIR, "bench", "thumbs", "photo-12mp.jpg")


def lambda_thumbnail(name, runs=5):
    """A 256 px thumbnail of the 12 MP JPEG made inside Lambda mode, as a function configured
    with 256 MB would make it: the process's peak RSS during that one invocation (the peak is
    reset after the upload, through /proc/PID/clear_refs) and its time; then the time to serve
    the stored one."""
    with open(PHOTO, "rb") as f:
        photo = f.read()
    made_ms, served_ms, peaks = [], [], []
    for _ in range(runs):
        function = LambdaFunction(name)
        event = rest_event("POST", "/images", base64.b64encode(photo), "image/jpeg", {"file_name": "photo.jpg"}, True)
        answer = function.api.invoke(event)
        assert answer.get("statusCode") == 201, str(answer)[:300]
        path = f"/images/{json.loads(answer['body'])['id']}/thumbnail"
        idle = status_kib(function.pid, "VmRSS")
        reset_peak(function.pid)
        for times in (made_ms, served_ms):
            started = time.perf_counter()
            function.invoke(rest_event("GET", path, query={"size": "256"}), expect=200)
            times.append((time.perf_counter() - started) * 1000)
            if times is made_ms:
                peaks.append((status_kib(function.pid, "VmHWM"), idle))
        function.stop()
    peak, idle = max(peaks)
    return {"made_ms": statistics.median(made_ms), "served_ms": statistics.median(served_ms),
            "peak_kib": peak, "idle_kib": idle, "runs": runs}


def load(server, name, ops, concurrency=16, seconds=5.0):
    results = {}
    for op_name, make_request in ops:
        latencies = []
        lock = threading.Lock()
        stop_at = time.perf_counter() + seconds
        errors = []

        def worker():
            conn = server.connection()
            mine = []
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    status = make_request(conn)
                except Exception as error:  # a failed request is a result, not a crash
                    errors.append(repr(error))
                    conn = server.connection()
                    continue
                mine.append(time.perf_counter() - started)
                if status >= 500:
                    errors.append(status)
            with lock:
                latencies.extend(mine)

        server_cpu, moto_cpu = thread_cpu_ns(server.pid), cpu_seconds(MOTO_PID)
        wall = concurrently(worker, concurrency)
        latencies.sort()
        results[op_name] = {
            "requests": len(latencies),
            "errors": len(errors),
            "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
            "throughput_rps": len(latencies) / wall,
            "server_cpu_share": (thread_cpu_ns(server.pid) - server_cpu) / 1e9 / wall,
            "emulator_cpu_share": (cpu_seconds(MOTO_PID) - moto_cpu) / wall,
        }
    return results


def upload_steps(name):
    """examples/upload_steps.rs: the CPU of each step of an upload, in-process."""
    setup(name)
    env = dict(os.environ, LOCALSTACK_ENDPOINT=ENDPOINT, BUCKET_NAME=name, TABLE_NAME=name, RUST_LOG="warn")
    binary = os.path.join(TARGET_DIR, "release", "examples", "upload_steps")
    return json.loads(subprocess.run([binary], env=env, check=True, capture_output=True, text=True).stdout)


def machine():
    """What the run was measured on: CPU model, cores, memory, kernel."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as info:
            total = int(next(line.split()[1] for line in info if line.startswith("MemTotal"))) / 1024 / 1024
    except (OSError, StopIteration, ValueError):
        total = 0
    return f"{model}, {os.cpu_count()} cores, {total:.0f} GiB, {platform.system()} {platform.release()} {platform.machine()}"


def main():
    floor = json.loads(subprocess.run([os.path.join(TARGET_DIR, "release", "examples", "floor")], check=True, capture_output=True, text=True).stdout)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    setup(name)
    steps = upload_steps(f"{name}-steps")

    cold = cold_start(lambda: Server(name, name))
    mem = memory(lambda: Server(name, name))
    setup(f"{name}-python")
    python = python_reference(f"{name}-python")
    in_lambda = lambda_mode(name)
    # The binary serves on one thread (see src/main.rs); beside it, the thread pool that
    # TOKIO_WORKER_THREADS asks for, one per core here. Its own table: moto's listing slows
    # with the table's size, and the load test lists.
    setup(f"{name}-pool")
    pool = Server(f"{name}-pool", f"{name}-pool", TOKIO_WORKER_THREADS=str(os.cpu_count()))
    cpu_pool = cpu_per_upload(pool)
    pool.stop()
    server = Server(name, name)
    cpu = cpu_per_upload(server)

    conn = server.connection()
    image = png(64 * 1024)
    ids = [upload_raw(conn, image) for _ in range(50)]
    counter = iter(range(10**9))

    def pick():
        return ids[next(counter) % len(ids)]

    ops = [
        ("upload 64KiB raw", lambda c: call(c, "POST", "/images?file_name=load.png", image, {"Content-Type": "image/png"})[0]),
        ("get metadata+content", lambda c: call(c, "GET", f"/images/{pick()}")[0]),
        ("get content", lambda c: call(c, "GET", f"/images/{pick()}/content")[0]),
        ("list 50", lambda c: call(c, "GET", "/images?limit=50")[0]),
    ]
    loaded = load(server, name, ops)
    server.stop()

    floor_ns = {
        "json 64KiB": floor["64KiB"]["json_ns"],
        "raw 64KiB": floor["64KiB"]["raw_ns"],
        "json 4MiB": floor["4MiB"]["json_ns"],
        "raw 4MiB": floor["4MiB"]["raw_ns"],
    }
    # What no server avoids beyond the floor: the body in from a client socket, the image out
    # to an S3 socket (examples/floor.rs, `relay_ns`).
    relay_ns = {
        "json 64KiB": floor["64KiB"]["json_relay_ns"],
        "raw 64KiB": floor["64KiB"]["raw_relay_ns"],
        "json 4MiB": floor["4MiB"]["json_relay_ns"],
        "raw 4MiB": floor["4MiB"]["raw_relay_ns"],
    }
    results = {
        "binary": BINARY,
        "binary_bytes": os.path.getsize(BINARY),
        "cold_start": cold,
        "memory": mem,
        "cpu_per_upload_ns": cpu,
        "cpu_per_upload_thread_pool_ns": cpu_pool,
        "floor_ns": floor_ns,
        "cpu_to_floor_ratio": {k: cpu[k] / floor_ns[k] for k in cpu},
        "relay_ns": relay_ns,
        "cpu_to_floor_plus_relay_ratio": {k: cpu[k] / (floor_ns[k] + relay_ns[k]) for k in cpu},
        "load": loaded,
        "python_reference": python,
        "machine": machine(),
        "lambda_mode": in_lambda,
        "upload_steps_ns": steps,
    }
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as out:
        json.dump(results, out, indent=2)

    idle = mem["json"]["idle_kib"] / 1024
    print(f"\nimage-api benchmark ({BINARY}, {results['binary_bytes'] / MIB:.1f} MiB)\n")
    print(f"cold start to first answered GET /images: median {cold['median_ms']:.1f} ms, max {cold['max_ms']:.1f} ms (10 starts)")
    print(f"memory: idle RSS {idle:.1f} MiB")
    for kind, factor in [("json", 2.5), ("raw", 1.5)]:
        m = mem[kind]
        print(f"  peak after one 4 MiB {kind} upload: {m['peak_kib'] / 1024:.1f} MiB (+{m['growth_mib']:.1f} MiB; target +{factor * 4:.1f})")
    print("\nserver CPU per upload          server      floor    ratio   floor+relay    ratio   pool")
    for key in ["json 64KiB", "raw 64KiB", "json 4MiB", "raw 4MiB"]:
        with_io = floor_ns[key] + relay_ns[key]
        print(
            f"  {key:<28}{cpu[key] / 1e6:8.2f} ms{floor_ns[key] / 1e6:8.2f} ms{cpu[key] / floor_ns[key]:8.1f}x"
            f"{with_io / 1e6:10.2f} ms{cpu[key] / with_io:8.1f}x{cpu_pool[key] / 1e6:8.2f} ms"
        )
    print("\nwhat each step of a 64 KiB upload costs (examples/upload_steps.rs: one thread, in-process; median CPU)")
    for kind, found in steps.items():
        print(f"  {kind}")
        for step, ns in found.items():
            print(f"    {step:<58}{ns / 1e6:7.3f} ms")
        print(f"    {'the HTTP server around it (whole server CPU above minus all)':<58}{(cpu[kind] - found['all: the whole request through the router, in-process']) / 1e6:7.3f} ms")
    lm = in_lambda["memory"]
    print("\ninside Lambda (bench/runtime_api.py hands it API Gateway REST events, one at a time)")
    print(f"  cold start to the first answered invocation: median {in_lambda['cold_start']['median_ms']:.1f} ms, max {in_lambda['cold_start']['max_ms']:.1f} ms")
    print(f"  idle RSS {lm['json']['idle_kib'] / 1024:.1f} MiB; peak after one 4 MiB json upload +{lm['json']['growth_mib']:.1f} MiB, raw +{lm['raw']['growth_mib']:.1f} MiB")
    print("  CPU per invocation: " + ", ".join(f"{k} {v / 1e6:.2f} ms" for k, v in in_lambda["cpu_per_invocation_ns"].items()))
    th = in_lambda["thumbnail"]
    print(f"  256 px thumbnail of a 12 MP JPEG (made, then served from S3): median {th['made_ms']:.1f} ms, then {th['served_ms']:.1f} ms;"
          f" peak RSS {th['peak_kib'] / 1024:.1f} MiB (idle {th['idle_kib'] / 1024:.1f} MiB; a 256 MB function has 244 MiB)")
    print("\nconcurrency 16, 5 s each      p50 ms   p99 ms    req/s  errors  server CPU  emulator CPU")
    for op, r in loaded.items():
        print(f"  {op:<26}{r['p50_ms']:8.1f}{r['p99_ms']:9.1f}{r['throughput_rps']:9.0f}{r['errors']:8d}{r['server_cpu_share'] * 100:10.0f}%{r['emulator_cpu_share'] * 100:12.0f}%")
    print(f"\nbeside the Python design (bench/python_design: Python {sys.version.split()[0]} + boto3, same emulator, same measurements)")
    print("                                  image-api     Python      Python / image-api")
    rows = [
        ("cold start, median", cold["median_ms"], python["cold_start"]["median_ms"], "ms"),
        ("idle RSS", mem["json"]["idle_kib"] / 1024, python["memory"]["json"]["idle_kib"] / 1024, "MiB"),
        ("peak RSS after 4 MiB json upload", mem["json"]["peak_kib"] / 1024, python["memory"]["json"]["peak_kib"] / 1024, "MiB"),
        ("growth from that upload", mem["json"]["growth_mib"], python["memory"]["json"]["growth_mib"], "MiB"),
        ("CPU per json upload, 64 KiB", cpu["json 64KiB"] / 1e6, python["cpu_per_upload_ns"]["json 64KiB"] / 1e6, "ms"),
        ("CPU per json upload, 4 MiB", cpu["json 4MiB"] / 1e6, python["cpu_per_upload_ns"]["json 4MiB"] / 1e6, "ms"),
    ]
    for label, ours, theirs, unit in rows:
        print(f"  {label:<32}{ours:8.2f} {unit:<4}{theirs:10.2f} {unit:<4}{theirs / ours:12.1f}x")
    cpu_ratio = cpu["json 64KiB"] / python["cpu_per_upload_ns"]["json 64KiB"]
    rss_ratio = mem["json"]["peak_kib"] / python["memory"]["json"]["peak_kib"]
    print(f"\nimage-api / Python: CPU per 64 KiB JSON upload {cpu_ratio:.2f}x (target 0.20x), peak RSS after a 4 MiB JSON upload {rss_ratio:.2f}x")
    print(f"machine: {results['machine']}")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
