"""The gallery page in a real browser (Chromium, driven by Playwright), against the server on
moto: upload a small and a large image, see both in the grid with their thumbnails (WebP, asked
for by name), scroll to
a second page, filter by name and by date, open a detail view, delete, and check that a file
name written as HTML shows as text and runs nothing; then the API-key prompt, against API
Gateway's 403 played by request routing (for listings and for uploads); uploads a few at a
time; a direct upload S3 refuses, aborted; a failed page of the grid, retried; and the date
filters in another time zone. Screenshots go to SCREENSHOTS.

Usage (scripts/test-browser.sh sets it up): python gallery.py BASE_URL SCREENSHOTS
"""
import json
import os
import random
import struct
import sys
import urllib.parse
import urllib.request
import zlib

from playwright.sync_api import expect, sync_playwright

HOSTILE = "<img src=x onerror=alert(1)>.png"


def png(width, height, seed, noisy=False):
    """A real PNG: a color gradient, or noise (which does not compress) for a large file."""
    rng = random.Random(seed)
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            if noisy:
                row += rng.randbytes(3)
            else:
                row += bytes([(x * 255) // width, (y * 255) // height, (seed * 40) % 256])
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


def api(base, method, path, body=None, content_type=None):
    request = urllib.request.Request(urllib.parse.urljoin(base, path), data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main():
    base, screenshots = sys.argv[1], sys.argv[2]
    os.makedirs(screenshots, exist_ok=True)
    max_inline = int(os.environ["MAX_UPLOAD_BYTES"])
    # More than one page of the grid (24), uploaded through the API first.
    for i in range(30):
        status, _ = api(base, "POST", f"images?file_name=seed-{i:02}.png", png(64, 48, i), "image/png")
        assert status == 201, status
    small = png(320, 240, 7)
    large = png(420, 420, 8, noisy=True)
    assert len(small) <= max_inline < len(large), (len(small), len(large))

    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        # Console errors include Content-Security-Policy violations.
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        # Every thumbnail the page fetches: its URL and the type it came back as.
        thumbnails = []
        page.on("response", lambda response: "/thumbnail?" in response.url
                and thumbnails.append((response.url, response.headers.get("content-type"))))
        dialogs = []

        def on_dialog(dialog):
            dialogs.append((dialog.type, dialog.message))
            dialog.accept() if dialog.type == "confirm" else dialog.dismiss()

        page.on("dialog", on_dialog)

        response = page.goto(base)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
        cards = page.locator("#grid .card")
        expect(cards).to_have_count(24)

        # Scrolling to the end loads the second page.
        page.locator("#more").scroll_into_view_if_needed()
        expect(cards).to_have_count(30)

        # Each upload carries an Idempotency-Key of its own: the inline POSTs and the plan.
        upload_keys = []
        page.on("request", lambda request: request.method == "POST" and request.url.split("?")[0].endswith(("/images", "/uploads"))
                and upload_keys.append(request.headers.get("idempotency-key")))

        # A small file (inline), a large one (straight to S3) and a hostile name, at once.
        page.locator("#picker").set_input_files([
            {"name": "small.png", "mimeType": "image/png", "buffer": small},
            {"name": "large.png", "mimeType": "image/png", "buffer": large},
            {"name": HOSTILE, "mimeType": "image/png", "buffer": small},
        ])
        expect(page.locator("#uploads li")).to_have_count(3)
        expect(page.locator("#uploads .message", has_text="uploaded")).to_have_count(3, timeout=20000)
        expect(page.locator("#uploads .failed")).to_have_count(0)
        assert len(upload_keys) == 3 and all(upload_keys) and len(set(upload_keys)) == 3, upload_keys
        expect(cards).to_have_count(24)  # the grid reloads from the first page
        for name in ("small.png", "large.png", HOSTILE):
            card = page.locator("#grid .card", has=page.locator(".name", has_text=name))
            expect(card).to_have_count(1)
            thumbnail = card.locator(".thumb img")
            expect(thumbnail).to_have_count(1)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
        # Chromium decodes WebP, so the page asks for it by name, and gets it.
        assert thumbnails and all("format=webp" in url and kind == "image/webp" for url, kind in thumbnails), thumbnails
        # The hostile name is text: no element was made from it, nothing ran.
        assert page.locator('img[src="x"]').count() == 0
        assert page.locator("#grid .name", has_text=HOSTILE).inner_text() == HOSTILE
        page.screenshot(path=os.path.join(screenshots, "grid.png"))

        # Filter by name, then by a date range with nothing in it, then clear.
        page.fill("#filter-name", "small.png")
        page.click("#filters button[type=submit]")
        expect(cards).to_have_count(1)
        expect(cards.first.locator(".name")).to_have_text("small.png")
        page.fill("#filter-name", "")
        page.fill("#filter-after", "2999-01-01")
        page.click("#filters button[type=submit]")
        expect(cards).to_have_count(0)
        expect(page.locator("#status")).to_have_text("No images yet.")
        page.click("#filters button[type=reset]")
        expect(cards).to_have_count(24)

        # The detail view of the large image, opened from the keyboard.
        large_card = page.locator("#grid .card", has=page.locator(".name", has_text="large.png"))
        large_card.focus()
        page.keyboard.press("Enter")
        detail = page.locator("#detail")
        expect(detail).to_be_visible()
        expect(page.locator("#detail-name")).to_have_text("large.png")
        facts = page.locator("#detail-facts").inner_text()
        assert "420 × 420" in facts and "image/png" in facts, facts
        download = page.locator("#detail-download").get_attribute("href")
        assert download.startswith("http") and "X-Amz-Signature" in download, download
        page.wait_for_function("() => { const i = document.querySelector('#detail img'); return i && i.complete && i.naturalWidth > 0; }")
        page.screenshot(path=os.path.join(screenshots, "detail.png"))
        large_id = large_card.get_attribute("data-id")

        # Delete, confirmed: gone from the grid and from the API.
        page.click("#detail-delete")
        expect(detail).to_be_hidden()
        expect(page.locator("#grid .card", has=page.locator(".name", has_text="large.png"))).to_have_count(0)
        assert [kind for kind, _ in dialogs] == ["confirm"], dialogs
        status, body = api(base, "GET", f"images/{large_id}")
        assert status == 404, (status, body[:200])

        # The hostile name in the detail view: text again.
        page.locator("#grid .card", has=page.locator(".name", has_text=HOSTILE)).click()
        expect(page.locator("#detail-name")).to_have_text(HOSTILE)
        assert page.locator('img[src="x"]').count() == 0
        page.click("#detail-close")

        # API Gateway's API_KEY mode, played by the browser's own request routing: without the
        # key the API answers 403 as API Gateway does. The page asks once, then works.
        keyed = browser.new_page(viewport={"width": 1280, "height": 800})
        keyed.on("pageerror", lambda error: problems.append(str(error)))
        refused = []

        def gate(route):
            if route.request.headers.get("x-api-key") == "k-123":
                route.continue_()
            else:
                refused.append(route.request.url)
                route.fulfill(status=403, content_type="application/json", body='{"message":"Forbidden"}')

        keyed.route(lambda url: "/images" in url, gate)
        keyed.goto(base)
        expect(keyed.locator("#key-dialog")).to_be_visible()
        keyed.fill("#key-input", "k-123")
        keyed.click("#key-form button[type=submit]")
        expect(keyed.locator("#grid .card")).to_have_count(24)
        keyed.locator("#grid .card .thumb img").first.wait_for()
        assert keyed.evaluate("sessionStorage.getItem('apiKey')") == "k-123"
        assert len(refused) == 1, refused

        # An upload (XMLHttpRequest) refused 403 asks for the key too, and is sent again with
        # it and with the same Idempotency-Key.
        keyed.evaluate("sessionStorage.removeItem('apiKey')")
        refused.clear()
        sent_keys = []
        keyed.on("request", lambda request: request.method == "POST" and sent_keys.append(request.headers.get("idempotency-key")))
        keyed.locator("#picker").set_input_files([{"name": "keyed.png", "mimeType": "image/png", "buffer": small}])
        expect(keyed.locator("#key-dialog")).to_be_visible()
        keyed.fill("#key-input", "k-123")
        keyed.click("#key-form button[type=submit]")
        expect(keyed.locator("#uploads .message", has_text="uploaded")).to_have_count(1, timeout=20000)
        assert len(refused) == 1 and len(sent_keys) == 2 and sent_keys[0] == sent_keys[1], (refused, sent_keys)
        keyed.close()

        # Uploads run a few at a time: the page counts the requests it has open.
        batch = browser.new_page(viewport={"width": 1280, "height": 800})
        batch.add_init_script("""
            window.openUploads = 0; window.mostOpenUploads = 0;
            const send = XMLHttpRequest.prototype.send;
            XMLHttpRequest.prototype.send = function (...args) {
              window.mostOpenUploads = Math.max(window.mostOpenUploads, ++window.openUploads);
              // Done at readyState 4, which comes before the load event the page waits for.
              this.addEventListener("readystatechange", () => this.readyState === 4 && window.openUploads--);
              return send.apply(this, args);
            };
        """)
        batch.goto(base)
        batch.locator("#picker").set_input_files([
            {"name": f"batch-{i}.png", "mimeType": "image/png", "buffer": png(40, 30, 100 + i)} for i in range(7)
        ])
        expect(batch.locator("#uploads .message", has_text="uploaded")).to_have_count(7, timeout=30000)
        most = batch.evaluate("window.mostOpenUploads")
        assert 1 <= most <= 3, most

        # A direct upload whose part S3 refuses is aborted: its plan is deleted.
        deletes = []
        batch.on("request", lambda request: request.method == "DELETE" and deletes.append(request.url))
        batch.route(lambda url: "X-Amz-Signature" in url,
                    lambda route: route.fulfill(status=500, body="S3 is down") if route.request.method == "PUT" else route.continue_())
        batch.locator("#uploads").evaluate("list => list.replaceChildren()")
        batch.locator("#picker").set_input_files([{"name": "refused-part.png", "mimeType": "image/png", "buffer": large}])
        expect(batch.locator("#uploads .failed")).to_have_count(1, timeout=20000)
        batch.wait_for_timeout(500)
        assert len(deletes) == 1 and "/uploads/" in deletes[0], deletes
        batch.unroute(lambda url: "X-Amz-Signature" in url)

        # A page of the grid that fails to load can be loaded again.
        failures = {"left": 1}

        def flaky(route):
            if "next_token=" in route.request.url and failures["left"]:
                failures["left"] -= 1
                route.fulfill(status=503, content_type="application/problem+json",
                              body='{"status":503,"detail":"A storage service is unavailable; retry later."}')
            else:
                route.continue_()

        batch.route(lambda url: "/images?" in url, flaky)
        batch.reload()
        batch_cards = batch.locator("#grid .card")
        expect(batch_cards).to_have_count(24)
        batch.locator("#more").scroll_into_view_if_needed()
        expect(batch.locator("#retry")).to_be_visible()
        expect(batch_cards).to_have_count(24)
        batch.click("#retry")
        expect(batch_cards.nth(24)).to_be_visible()
        batch.close()

        # The date filters are the user's own days: in Auckland (UTC+13 in November), 29
        # November runs from 10:00 UTC on the 28th to 11:00 UTC on the 29th.
        auckland = browser.new_context(timezone_id="Pacific/Auckland", viewport={"width": 1280, "height": 800})
        dated = auckland.new_page()
        listings = []
        dated.on("request", lambda request: "/images?" in request.url and listings.append(request.url))
        dated.goto(base)
        expect(dated.locator("#grid .card")).to_have_count(24)
        dated.fill("#filter-after", "2026-11-29")
        dated.fill("#filter-before", "2026-11-29")
        dated.click("#filters button[type=submit]")
        dated.wait_for_timeout(500)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(listings[-1]).query)
        assert query["created_after"] == ["2026-11-28T10:59:59.999Z"], query
        assert query["created_before"] == ["2026-11-29T11:00:00.000Z"], query
        auckland.close()

        # On a phone-sized screen the grid still shows, in fewer columns.
        page.set_viewport_size({"width": 390, "height": 800})
        expect(cards.first).to_be_visible()
        page.screenshot(path=os.path.join(screenshots, "phone.png"))
        browser.close()

    assert not problems, problems
    print(f"gallery: all checks passed; screenshots in {screenshots}")


if __name__ == "__main__":
    main()
