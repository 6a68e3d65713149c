// sharp (libvips), as AWS's Serverless Image Handler uses it: the same 256 px thumbnail as
// image-api makes (EXIF orientation applied, fit inside, JPEG quality 82, no metadata).
// Usage: node sharp_thumb.js FILE SIZE RUNS; prints one JSON line like examples/thumbnail.rs.
const fs = require("fs");
const sharp = require("sharp");

async function main() {
  const [path, size, runs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
  // One thread, as image-api's thumbnail runs on one (and a Lambda of 256 MB has a fraction of a vCPU).
  sharp.concurrency(1);
  sharp.cache(false);
  const times = [];
  let outBytes = 0;
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const input = fs.readFileSync(path);
    const out = await sharp(input).rotate().resize(size, size, { fit: "inside", withoutEnlargement: true })
      .jpeg({ quality: 82 }).toBuffer();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    outBytes = out.length;
  }
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const peak = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  console.log(JSON.stringify({ times_ms: times, peak_kib: peak, out_bytes: outBytes }));
}
main();
