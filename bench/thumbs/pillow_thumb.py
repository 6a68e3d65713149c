"""Pillow, as the LocalStack image-resizer sample uses it, with draft mode (JPEG decoded at
reduced scale): the same 256 px thumbnail as image-api makes (EXIF orientation applied, fit
inside, JPEG quality 82, no metadata).
Usage: python pillow_thumb.py FILE SIZE RUNS; prints one JSON line like examples/thumbnail.rs.
"""
import io
import json
import sys
import time

from PIL import Image, ImageOps


def main():
    path, size, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    times = []
    out_bytes = 0
    for _ in range(runs):
        started = time.perf_counter()
        with open(path, "rb") as f:
            data = f.read()
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (size, size))
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=82)
        times.append((time.perf_counter() - started) * 1000)
        out_bytes = out.tell()
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"times_ms": times, "peak_kib": peak, "out_bytes": out_bytes}))


if __name__ == "__main__":
    main()
