"""The API's contract through `sam local start-api` (API Gateway's emulation in front of the
function's container): a JSON upload and a raw binary upload (byte for byte back from
/content, with its Content-Type and ETag), list, get, a conditional 304, a problem document
for a bad body, delete and a repeated delete. With IMAGE_API_TOKEN (COGNITO mode), every call
carries it, and a call without it or with a mangled one must get 401.

Usage: [IMAGE_API_TOKEN=...] python contract.py BASE_URL
"""
import os
import base64
import json
import struct
import sys
import urllib.error
import urllib.request
import zlib


def png(width, height, seed):
    rows = b"".join(b"\x00" + bytes((x * 7 + y * 13 + seed) % 256 for x in range(width * 3)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def call(base, method, path, body=None, headers=None):
    # As curl and browsers do: sam local decodes a binary (base64) answer only for a request
    # whose Accept matches the binary media types, and urllib sends none.
    headers = {"Accept": "*/*", **AUTHORIZATION, **(headers or {})}
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


TOKEN = os.environ.get("IMAGE_API_TOKEN")
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    base = sys.argv[1].rstrip("/")
    if TOKEN:
        for refused in ({"Authorization": ""}, {"Authorization": f"Bearer {TOKEN[:-4]}AAAA"}):
            status, headers, body = call(base, "GET", "/images", headers=refused)
            headers = {k.lower(): v for k, v in headers.items()}
            check(status == 401 and headers.get("www-authenticate") == "Bearer"
                  and json.loads(body)["code"] == "unauthorized", f"without a valid token: {status} {body[:200]!r}")
    # Bytes 0x00-0xff throughout, so any text mangling of a binary body shows.
    image = png(64, 48, 3)

    status, _, body = call(base, "POST", "/images", json.dumps(
        {"file_name": "json.png", "content": base64.b64encode(image).decode(), "metadata": {"via": "sam local"}}
    ).encode(), {"Content-Type": "application/json"})
    check(status == 201, f"JSON upload: {status} {body[:300]!r}")
    json_id = json.loads(body)["id"]

    status, _, body = call(base, "POST", "/images?file_name=raw.png", image, {"Content-Type": "image/png"})
    check(status == 201, f"raw upload: {status} {body[:300]!r}")
    raw = json.loads(body)
    check(raw["size"] == len(image) and raw["width"] == 64, f"raw record: {raw}")

    status, headers, content = call(base, "GET", f"/images/{raw['id']}/content")
    headers = {k.lower(): v for k, v in headers.items()}
    check(status == 200 and content == image,
          f"content: {status}, {len(content)} bytes for {len(image)}: {content[:24]!r} for {image[:24]!r}")
    check(headers.get("content-type") == "image/png", f"content type: {headers}")
    etag = headers.get("etag")
    check(bool(etag), f"an ETag: {headers}")
    status, _, body = call(base, "GET", f"/images/{raw['id']}/content", headers={"If-None-Match": etag})
    check(status == 304 and body == b"", f"conditional get: {status}")

    status, _, body = call(base, "GET", "/images?limit=10")
    listed = {item["id"] for item in json.loads(body)["items"]}
    check(status == 200 and {json_id, raw["id"]} <= listed, f"list: {status} {listed}")

    status, _, body = call(base, "GET", f"/images/{json_id}")
    record = json.loads(body)
    check(status == 200 and record["metadata"] == {"via": "sam local"}, f"get: {status} {record}")
    check(base64.b64decode(record["content"]) == image, "get: the content round-trips")

    status, headers, body = call(base, "POST", "/images", b'{"file_name": "x.png", "content": "%%%"}',
                                 {"Content-Type": "application/json"})
    headers = {k.lower(): v for k, v in headers.items()}
    problem = json.loads(body)
    check(status == 400 and headers.get("content-type") == "application/problem+json", f"bad body: {status} {headers}")
    check(problem["code"] == "invalid_base64" and problem["request_id"], f"problem: {problem}")

    for image_id in (json_id, raw["id"]):
        status, _, _ = call(base, "DELETE", f"/images/{image_id}")
        check(status == 204, f"delete: {status}")
    status, _, body = call(base, "DELETE", f"/images/{json_id}")
    check(status == 404 and json.loads(body)["code"] == "not_found", f"repeated delete: {status} {body[:200]!r}")
    refusals = "401 without a valid token, " if TOKEN else ""
    mode = "COGNITO, with an access token" if TOKEN else "open"
    print(f"sam local start-api ({mode}): the contract holds ({refusals}uploads JSON and raw, "
          "content with ETag and 304, list, get, problem, delete)")


if __name__ == "__main__":
    main()
