// sharp (libvips), as AWS's Serverless Image Handler uses it: the same 256 px thumbnail as
// image-api makes (EXIF orientation applied, fit inside, JPEG quality 82, no metadata); with a
// FORMAT of webp, sharp's own `webp()` defaults instead. With THUMB_OUT set, the last thumbnail
// is written there.
// Usage: node sharp_thumb.js FILE SIZE RUNS [jpeg|webp]; prints one JSON line like
// examples/thumbnail.rs.
const fs = require("fs");
const sharp = require("sharp");

async function main() {
  const [path, size, runs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  const format = process.argv[5] || "jpeg";
  // One thread, as image-api's thumbnail runs on one (and a Lambda of 256 MB has a fraction of a vCPU).
  sharp.concurrency(1);
  sharp.cache(false);
  const times = [];
  let outBytes = 0;
  let last = Buffer.alloc(0);
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const input = fs.readFileSync(path);
    const resized = sharp(input).rotate().resize(size, size, { fit: "inside", withoutEnlargement: true });
    const out = await (format === "webp" ? resized.webp() : resized.jpeg({ quality: 82 })).toBuffer();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    outBytes = out.length;
    last = out;
  }
  if (process.env.THUMB_OUT) fs.writeFileSync(process.env.THUMB_OUT, last);
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const peak = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  console.log(JSON.stringify({ times_ms: times, peak_kib: peak, out_bytes: outBytes }));
}
main();
