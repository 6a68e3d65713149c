"""The gallery page with Cognito sign-in, in Chromium, against the server on moto with a user
pool: the page asks to sign in before anything else, refuses a wrong password, signs in
straight against Cognito (so the Content-Security-Policy allows it), shows only the signed-in
user's images, uploads as them, keeps the tokens in sessionStorage only, renews an access
token the API refuses with the refresh token, renews one before it expires (so a session
outlives its tokens), signs out, and has a user with a temporary
password (as an administrator makes one) choose a new one at the first sign-in.

Usage (scripts/test-browser.sh sets it up): python sign_in.py BASE_URL COGNITO_JSON SCREENSHOTS
COGNITO_JSON is what scripts/cognito_users.py printed for users alice, bob and carol~.
"""
import base64
import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import expect, sync_playwright

from gallery import api, png


def access_token(endpoint, client, user, password):
    body = json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                       "AuthParameters": {"USERNAME": user, "PASSWORD": password}}).encode()
    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)["AuthenticationResult"]["AccessToken"]


def expiry(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def upload_as(base, token, name, body):
    request = urllib.request.Request(urllib.parse.urljoin(base, f"images?file_name={name}"), data=body,
                                     method="POST", headers={"Content-Type": "image/png",
                                                             "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 201, response.status


def main():
    base, cognito, screenshots = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    os.makedirs(screenshots, exist_ok=True)
    endpoint = os.environ["MOTO_ENDPOINT"]
    users = cognito["users"]
    # Without a token the API refuses; each user has an image of their own already.
    status, _ = api(base, "GET", "images")
    assert status == 401, status
    for user in ("alice", "bob"):
        token = access_token(endpoint, cognito["client_id"], user, users[user])
        upload_as(base, token, f"{user}-first.png", png(48, 32, len(user)))

    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        # The browser logs each refused request (the wrong password's 400, the API's 401s);
        # anything else, a CSP violation say, is a fault.
        page.on("console", lambda message: message.type == "error"
                and not any(f"status of {s}" in message.text for s in (400, 401))
                and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))

        response = page.goto(base)
        policy = response.headers["content-security-policy"]
        assert endpoint in policy, policy
        dialog = page.locator("#signin-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#grid .card")).to_have_count(0)

        # A wrong password is refused in the dialog, which stays.
        page.fill("#signin-user", "alice")
        page.fill("#signin-password", "not-her-password")
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#signin-error")).to_contain_text("Incorrect username or password")
        expect(dialog).to_be_visible()

        page.fill("#signin-password", users["alice"])
        page.click("#signin-form button[type=submit]")
        expect(dialog).to_be_hidden()
        cards = page.locator("#grid .card")
        expect(cards).to_have_count(1)
        expect(cards.first).to_have_attribute("title", "alice-first.png")
        expect(page.locator("#account-name")).to_have_text("alice")
        expect(page.locator("#grid .card img")).to_have_count(1)  # the thumbnail, fetched with the token
        page.screenshot(path=os.path.join(screenshots, "signed-in.png"))

        # Tokens live in sessionStorage, nowhere else.
        stored = page.evaluate("() => [Object.keys(sessionStorage).sort(), localStorage.length, document.cookie]")
        assert stored == [["accessToken", "refreshToken", "userName"], 0, ""], stored

        # An upload from the page is alice's: bob never sees it.
        page.locator("#picker").set_input_files([{"name": "from-page.png", "mimeType": "image/png",
                                                  "buffer": png(64, 48, 3)}])
        expect(page.locator("#uploads .message", has_text="uploaded")).to_have_count(1, timeout=20000)
        expect(cards).to_have_count(2)
        bob = access_token(endpoint, cognito["client_id"], "bob", users["bob"])
        request = urllib.request.Request(urllib.parse.urljoin(base, "images"),
                                         headers={"Authorization": f"Bearer {bob}"})
        with urllib.request.urlopen(request) as answer:
            bobs = [item["file_name"] for item in json.load(answer)["items"]]
        assert bobs == ["bob-first.png"], bobs

        # An access token the API refuses (expired, say) is renewed with the refresh token,
        # without asking again.
        page.evaluate("() => sessionStorage.setItem('accessToken', 'expired.token.value')")
        page.reload()
        expect(cards).to_have_count(2)
        expect(dialog).to_be_hidden()
        renewed = page.evaluate("() => sessionStorage.getItem('accessToken')")
        assert renewed and renewed != "expired.token.value"

        # A session outlives its tokens: when the page's clock reaches an access token's last
        # minute, the next request renews it with the refresh token first and never carries the
        # old one, with no refusal on the way; twice, so a renewed token is renewed in turn.
        seen, refusals = [], []

        def on_request(request):
            path = urllib.parse.urlparse(request.url).path
            if request.url.startswith(endpoint) and "REFRESH_TOKEN_AUTH" in (request.post_data or ""):
                seen.append(("renew", None))
            elif request.url.startswith(base) and path.startswith("/images"):
                seen.append(("api", request.headers.get("authorization")))

        page.on("request", on_request)
        page.on("response", lambda answer: answer.url.startswith(base) and answer.status in (401, 403)
                and refusals.append(answer.url))
        for _ in range(2):
            old = page.evaluate("() => sessionStorage.getItem('accessToken')")
            last_minute = datetime.datetime.fromtimestamp(expiry(old) - 60, tz=datetime.timezone.utc)
            page.clock.set_system_time(last_minute)
            seen.clear()
            page.reload()
            expect(cards).to_have_count(2)
            expect(dialog).to_be_hidden()
            new = page.evaluate("() => sessionStorage.getItem('accessToken')")
            assert new != old and expiry(new) >= expiry(old), "the token was not renewed"
            # Renewed before the first request; (moto's new tokens are dated by the real clock,
            # so the page, its clock ahead, may find them near their end too and renew again.)
            calls = [kind for kind, _ in seen]
            assert calls and calls[0] == "renew", calls
            sent = {credentials for kind, credentials in seen if kind == "api"}
            assert f"Bearer {old}" not in sent and f"Bearer {new}" in sent, sent
        assert not refusals, refusals
        page.remove_listener("request", on_request)

        # Signing out forgets the tokens and asks again. (It also revokes the refresh token,
        # which moto does not implement: its failure, logged by the browser, is not checked.)
        assert not problems, problems
        page.click("#sign-out")
        expect(dialog).to_be_visible()
        assert page.evaluate("() => sessionStorage.length") == 0
        expect(cards).to_have_count(0)

        # A first sign-in with a temporary password asks for a new one, then signs in with it.
        page.fill("#signin-user", "carol")
        page.fill("#signin-password", users["carol"])
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#signin-error")).to_contain_text("Choose a new password")
        expect(page.locator("#signin-new")).to_be_visible()
        expect(dialog).to_be_visible()
        page.fill("#signin-new", "Carol-New-Pw-1a")
        page.click("#signin-form button[type=submit]")
        expect(dialog).to_be_hidden()
        expect(page.locator("#account-name")).to_have_text("carol")
        page.screenshot(path=os.path.join(screenshots, "new-password.png"))
        browser.close()
    # The new password is carol's now (no challenge); the temporary one is spent.
    assert access_token(endpoint, cognito["client_id"], "carol", "Carol-New-Pw-1a")
    try:
        access_token(endpoint, cognito["client_id"], "carol", users["carol"])
        raise AssertionError("the temporary password still signs in")
    except urllib.error.HTTPError as refused:
        assert refused.code == 400, refused.code
    print("sign-in: all checks passed")


if __name__ == "__main__":
    main()
