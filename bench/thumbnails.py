"""`make bench`, thumbnails: image-api's thumbnail code path beside sharp (libvips; AWS's
Serverless Image Handler) and Pillow with draft mode (the LocalStack image-resizer sample), in
one run, on the same inputs, each making the same 256 px JPEG in a process of its own.

Inputs, generated here and deterministic: (a) a 12-megapixel photo-like JPEG (4032x3024,
quality 90, EXIF orientation 6) and (b) the same picture as PNG (orientation 6 too). Reported:
time per thumbnail (best and median of RUNS, file read included) and the process's peak
resident memory, with the ratios peer / image-api. Then the formats at 512 px, from the same
photo: image-api's JPEG and WebP beside sharp's (its JPEG at quality 82, its `webp()` with
defaults), each one's bytes, median time, and PSNR against a good downscale of the upright
original (Pillow's Lanczos), so that "smaller" is read at equal quality.

Run from the repository root: python3 bench/thumbnails.py BINARY (examples/thumbnail, release).
The peers come from `make bench`: .venv-bench (Pillow) and bench/thumbs/node_modules (sharp).
"""
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys

from PIL import Image

RUNS = int(os.environ.get("THUMB_RUNS", "7"))
SIZE = 256
HERE = os.path.dirname(os.path.abspath(__file__))


def inputs(directory):
    os.makedirs(directory, exist_ok=True)
    jpeg, png = os.path.join(directory, "photo-12mp.jpg"), os.path.join(directory, "photo-12mp.png")
    if os.path.exists(jpeg) and os.path.exists(png):
        return jpeg, png
    rng = random.Random(20261126)
    # Smooth structure (upscaled noise) over a gradient: compresses like a photo, not like noise.
    coarse = Image.frombytes("RGB", (126, 95), rng.randbytes(126 * 95 * 3))
    picture = coarse.resize((4032, 3024), Image.BICUBIC)
    gradient = Image.linear_gradient("L").resize((4032, 3024)).convert("RGB")
    picture = Image.blend(picture, gradient, 0.35)
    exif = Image.Exif()
    exif[0x0112] = 6
    picture.save(jpeg, "JPEG", quality=90, exif=exif.tobytes())
    picture.save(png, "PNG", exif=exif.tobytes())
    return jpeg, png


def run(command, env=None):
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    times = result["times_ms"]
    return {"best_ms": min(times), "median_ms": statistics.median(times), "peak_mib": result["peak_kib"] / 1024,
            "out_bytes": result["out_bytes"]}


FORMAT_SIZE = 512


def psnr(path, reference):
    """PSNR in dB of the image at `path` against `reference` (an RGB Pillow image of its size)."""
    with Image.open(path) as made:
        made = made.convert("RGB")
        assert made.size == reference.size, (made.size, reference.size)
        a, b = made.tobytes(), reference.tobytes()
    mse = sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def formats(binary, photo, directory):
    """Bytes, time and PSNR of each format at FORMAT_SIZE, image-api beside sharp."""
    from PIL import ImageOps
    with Image.open(photo) as original:
        upright = ImageOps.exif_transpose(original).convert("RGB")
    rows = {}
    for format in ("jpeg", "webp"):
        for name, command in [
            ("image-api", [binary, photo, str(FORMAT_SIZE), str(RUNS), format]),
            ("sharp", ["node", os.path.join(HERE, "thumbs", "sharp_thumb.js"), photo, str(FORMAT_SIZE), str(RUNS), format]),
        ]:
            out = os.path.join(directory, f"{name}-{FORMAT_SIZE}.{format}")
            result = run(command, env=dict(os.environ, THUMB_OUT=out))
            with Image.open(out) as made:
                reference = upright.resize(made.size, Image.LANCZOS)
            result["psnr_db"] = psnr(out, reference)
            rows[f"{name} {format}"] = result
    print(f"\nformats: a {FORMAT_SIZE} px thumbnail of the 12 MP photo, {RUNS} runs each; PSNR against Pillow's Lanczos downscale of the upright original\n")
    print(f"{'':<20}{'bytes':>9}{'vs its JPEG':>13}{'median ms':>11}{'PSNR dB':>9}")
    for label, r in rows.items():
        jpeg = rows[label.split()[0] + " jpeg"]["out_bytes"]
        print(f"{label:<20}{r['out_bytes']:9d}{r['out_bytes'] / jpeg:12.2f}x{r['median_ms']:11.1f}{r['psnr_db']:9.2f}")
    return rows


def main():
    binary = sys.argv[1]
    directory = os.path.join(os.path.dirname(os.path.dirname(binary)), "..", "bench", "thumbs")
    jpeg, png = inputs(os.path.normpath(directory))
    peers = {
        "image-api": lambda f: [binary, f, str(SIZE), str(RUNS)],
        "sharp": lambda f: ["node", os.path.join(HERE, "thumbs", "sharp_thumb.js"), f, str(SIZE), str(RUNS)],
        "Pillow": lambda f: [sys.executable, os.path.join(HERE, "thumbs", "pillow_thumb.py"), f, str(SIZE), str(RUNS)],
    }
    results = {}
    for label, path in [("12 MP JPEG, orientation 6", jpeg), ("same picture as PNG", png)]:
        results[label] = {name: run(command(path)) for name, command in peers.items()}
    print(f"\nthumbnails: a {SIZE} px JPEG, one thread, {RUNS} runs each (file read included)\n")
    print(f"{'input':<28}{'':<12}{'best ms':>9}{'median ms':>11}{'peak MiB':>10}{'time ratio':>12}{'memory ratio':>14}")
    for label, by_peer in results.items():
        ours = by_peer["image-api"]
        for name, r in by_peer.items():
            ratio = "" if name == "image-api" else f"{r['median_ms'] / ours['median_ms']:.1f}x"
            memory = "" if name == "image-api" else f"{r['peak_mib'] / ours['peak_mib']:.1f}x"
            print(f"{label:<28}{name:<12}{r['best_ms']:9.1f}{r['median_ms']:11.1f}{r['peak_mib']:10.1f}{ratio:>12}{memory:>14}")
            label = ""
    print("ratios are peer / image-api: above 1.0x, image-api is faster or smaller")
    results["formats"] = formats(binary, jpeg, os.path.normpath(directory))
    out = os.path.join(os.path.normpath(directory), "..", "thumbnails.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"written to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
