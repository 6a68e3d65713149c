"""`make bench`, hostile inputs: for each accepted format, the costliest inputs the limits allow
(many pixels in a small file; segments, chunks or blocks repeated to fill a megabyte; the largest
file a direct upload takes) beside a real photo in the same format, each made into a 256 px
thumbnail by the release binary against moto: the answer, its time, and the process's peak RSS
during that one request (reset through /proc/PID/clear_refs), in HTTP mode and inside Lambda
mode (bench/runtime_api.py), with the default decode budget (a 256 MB function).

Run through scripts/with-moto.sh with Pillow (.venv-bench). Inputs are generated once into
bench/hostile/ of the target directory. Prints a table; writes bench/hostile.json.
"""
import base64
import json
import os
import struct
import sys
import time
import urllib.request
import zlib

from PIL import Image

import bench
from runtime_api import rest_event
from thumbnails import inputs as photo_inputs

SIDE = 9990  # 99.8 million pixels: under MAX_PIXELS (100 million)
DIR = os.path.join(bench.TARGET_DIR, "bench", "hostile")
RESULTS = os.path.join(bench.TARGET_DIR, "bench", "hostile.json")


def save(name, write):
    path = os.path.join(DIR, name)
    if not os.path.exists(path):
        write(path)
    return path


def flat(mode="RGB", side=SIDE):
    return Image.new(mode, (side, side), (40, 120, 200) if mode == "RGB" else 7)


def jpeg_with_dht_padding(photo_small, path, total=1 << 20):
    """A small JPEG whose own Huffman tables are defined again and again, to `total` bytes."""
    data = open(photo_small, "rb").read()
    tables, at = [], 2
    while data[at] == 0xFF and data[at + 1] != 0xDA:
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if data[at + 1] == 0xC4:
            tables.append(data[at:at + 2 + length])
        at += 2 + length
    block = b"".join(tables)
    with open(path, "wb") as f:
        f.write(data[:at] + block * ((total - len(data)) // len(block)) + data[at:])


def png_with_chunk_padding(photo_small, path, total=1 << 20):
    """A small PNG with private ancillary chunks of 16 bytes each before its image data."""
    data = open(photo_small, "rb").read()
    body = b"x" * 16
    chunk = struct.pack(">I", len(body)) + b"prVt" + body + struct.pack(">I", zlib.crc32(b"prVt" + body))
    with open(path, "wb") as f:
        f.write(data[:33] + chunk * ((total - len(data)) // len(chunk)) + data[33:])


def gif_with_comment_padding(photo_small, path, total=1 << 20):
    """A small GIF with comment extensions of one-byte blocks before its image."""
    data = open(photo_small, "rb").read()
    at = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    comment = b"\x21\xfe" + b"\x01c" * 255 + b"\x00"
    with open(path, "wb") as f:
        f.write(data[:at] + comment * ((total - len(data)) // len(comment)) + data[at:])


def make_inputs():
    os.makedirs(DIR, exist_ok=True)
    jpeg_photo, _ = photo_inputs(os.path.join(bench.TARGET_DIR, "bench", "thumbs"))
    photo = Image.open(jpeg_photo).convert("RGB")
    small = photo.resize((640, 480))
    small_jpeg = save("small.jpg", lambda p: small.save(p, "JPEG", quality=85))
    small_png = save("small.png", lambda p: small.save(p, "PNG"))
    small_gif = save("small.gif", lambda p: small.convert("P").save(p, "GIF"))
    rows = [
        # (format, input, path)
        ("JPEG", "12 MP photo", jpeg_photo),
        ("JPEG", f"{SIDE}² one colour, baseline", save("many.jpg", lambda p: flat().save(p, "JPEG", quality=90))),
        ("JPEG", f"{SIDE}² one colour, progressive", save("many-progressive.jpg", lambda p: flat().save(p, "JPEG", quality=90, progressive=True))),
        ("JPEG", "12 MP photo, progressive", save("photo-progressive.jpg", lambda p: photo.save(p, "JPEG", quality=90, progressive=True))),
        ("JPEG", "5000² progressive photo", save("large-progressive.jpg", lambda p: photo.resize((5000, 5000)).save(p, "JPEG", quality=90, progressive=True))),
        ("JPEG", "640x480, DHT repeated to 1 MB", save("dht.jpg", lambda p: jpeg_with_dht_padding(small_jpeg, p))),
        ("PNG", "12 MP photo", save("photo.png", lambda p: photo.save(p, "PNG"))),
        ("PNG", f"{SIDE}² one colour", save("many.png", lambda p: flat().save(p, "PNG"))),
        ("PNG", "640x480, chunks to 1 MB", save("chunks.png", lambda p: png_with_chunk_padding(small_png, p))),
        ("GIF", "12 MP photo", save("photo.gif", lambda p: photo.convert("P").save(p, "GIF"))),
        ("GIF", f"{SIDE}² one colour", save("many.gif", lambda p: flat("P").save(p, "GIF"))),
        ("GIF", "640x480, comments to 1 MB", save("comments.gif", lambda p: gif_with_comment_padding(small_gif, p))),
        ("WebP", "12 MP photo", save("photo.webp", lambda p: photo.save(p, "WEBP", quality=85))),
        ("WebP", f"{SIDE}² one colour, lossless", save("many.webp", lambda p: flat().save(p, "WEBP", lossless=True))),
        # Pillow writes a TIFF's directory after its pixels, where a direct upload's header read
        # (the first MiB) does not reach: this one stays under the inline upload limit.
        ("TIFF", "1 MP photo, deflate", save("photo.tiff", lambda p: photo.resize((1280, 960)).save(p, "TIFF", compression="tiff_adobe_deflate"))),
        ("TIFF", f"{SIDE}² one colour, deflate", save("many.tiff", lambda p: flat().save(p, "TIFF", compression="tiff_adobe_deflate"))),
        ("BMP", "12 MP photo", save("photo.bmp", lambda p: photo.save(p, "BMP"))),
        ("BMP", "4600² (64 MiB, the direct upload limit)", save("large.bmp", lambda p: photo.resize((4600, 4600)).save(p, "BMP"))),
    ]
    return rows


def upload(server, path):
    """The image's id: a raw upload up to 4 MiB, a direct upload (plan, PUT, complete) above."""
    data = open(path, "rb").read()
    conn = server.connection()
    name = os.path.basename(path)
    if len(data) <= 4 * bench.MIB:
        status, body = bench.call(conn, "POST", f"/images?file_name={name}", data, {"Content-Type": "application/octet-stream"})
        assert status == 201, (path, status, body[:300])
        return json.loads(body)["id"]
    status, body = bench.call(conn, "POST", "/uploads", json.dumps({"file_name": name, "size": len(data)}), {"Content-Type": "application/json"})
    assert status == 201, (status, body[:300])
    plan = json.loads(body)
    parts = []
    for part in plan["parts"]:
        start = (part["number"] - 1) * plan["part_size"]
        piece = data[start:start + plan["part_size"]]
        # urllib would call the body a form (application/x-www-form-urlencoded), which moto parses.
        headers = {"Content-Type": "application/octet-stream", **{k: v for k, v in part["headers"].items() if k != "content-length"}}
        request = urllib.request.Request(part["url"], data=piece, method="PUT", headers=headers)
        with urllib.request.urlopen(request) as answer:
            parts.append({"number": part["number"], "etag": answer.headers["ETag"]})
    status, body = bench.call(conn, "POST", f"/uploads/{plan['id']}/complete", json.dumps({"parts": parts}), {"Content-Type": "application/json"})
    assert status == 201, (path, status, body[:300])
    return plan["id"]


def measure(pid, request):
    """One thumbnail request: (status, problem code, ms, peak RSS MiB during it)."""
    bench.reset_peak(pid)
    started = time.perf_counter()
    status, code = request()
    elapsed = (time.perf_counter() - started) * 1000
    return {"status": status, "code": code, "ms": elapsed, "peak_mib": bench.status_kib(pid, "VmHWM") / 1024}


def main():
    rows = make_inputs()
    name = f"hostile-{os.getpid()}"
    bench.setup(name)
    server = bench.Server(name, name)
    ids = [upload(server, path) for _, _, path in rows]

    def over_http(image_id):
        conn = server.connection()
        status, body = bench.call(conn, "GET", f"/images/{image_id}/thumbnail?size=256")
        return status, "" if status == 200 else json.loads(body).get("code", "")

    http_results = [measure(server.pid, lambda i=i: over_http(i)) for i in ids]
    server.stop()

    # Uploaded again, so that Lambda mode makes each thumbnail rather than serve the kept one.
    server = bench.Server(name, name)
    ids = [upload(server, path) for _, _, path in rows]
    server.stop()
    lambda_results = []
    for image_id in ids:
        # A fresh function each time: the peak of one invocation, as Lambda would see it.
        function = bench.LambdaFunction(name)

        def invoke(image_id=image_id, function=function):
            answer = function.api.invoke(rest_event("GET", f"/images/{image_id}/thumbnail", query={"size": "256"}))
            status = answer.get("statusCode")
            body = answer.get("body", "")
            if answer.get("isBase64Encoded"):
                body = base64.b64decode(body)
            return status, "" if status == 200 else json.loads(body).get("code", "")

        lambda_results.append(measure(function.pid, invoke))
        function.stop()

    results = []
    print("\nhostile inputs: a 256 px thumbnail each, default decode budget (128 MiB of a 256 MB function)\n")
    print(f"{'format':<6}{'input':<40}{'MB':>7}{'answer':>28}{'HTTP ms':>9}{'peak MiB':>9}{'Lambda ms':>10}{'peak MiB':>9}")
    for (fmt, label, path), h, lam in zip(rows, http_results, lambda_results):
        size = os.path.getsize(path) / 1e6
        answer = f"{h['status']} {h['code']}".strip()
        if (lam["status"], lam["code"]) != (h["status"], h["code"]):
            answer += f" (Lambda: {lam['status']} {lam['code']})".replace(" )", ")")
        print(f"{fmt:<6}{label:<40}{size:7.2f}{answer:>28}{h['ms']:9.1f}{h['peak_mib']:9.1f}{lam['ms']:10.1f}{lam['peak_mib']:9.1f}")
        results.append({"format": fmt, "input": label, "bytes": os.path.getsize(path), "http": h, "lambda": lam})
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=2)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
