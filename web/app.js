// The gallery: a grid of thumbnails (newest first, more as you scroll), uploads by drop or
// picker (small files inline, large ones straight to S3), and a detail view. Everything a user
// supplied (file names, metadata) goes into the page as text, never as HTML.
"use strict";

const base = new URL(".", location.href);
const maxInlineBytes = Number(document.body.dataset.maxInlineBytes) || 4 * 1024 * 1024;
const PAGE_SIZE = 24;
const $ = (id) => document.getElementById(id);

// --- Talking to the API ----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.requestId = problem.request_id;
  }
}

// Set when the deployment signs people in with Cognito (the server fills these in).
const cognito = {
  endpoint: document.body.dataset.cognitoEndpoint,
  client: document.body.dataset.cognitoClient,
};
const signingIn = Boolean(cognito.endpoint && cognito.client);

// Credentials for a request to the API: with Cognito, an access token renewed first when it is
// about to expire, so that a session outlives its tokens without a refused request.
async function headers(extra = {}) {
  if (signingIn) {
    await renewIfExpiring();
    const token = sessionStorage.getItem("accessToken");
    return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
  }
  const key = sessionStorage.getItem("apiKey");
  return key ? { ...extra, "x-api-key": key } : extra;
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { detail: `${response.status} ${response.statusText}` };
  }
}

// API Gateway's API_KEY mode answers 403 without a key: ask once (however many requests were
// refused at the same time), keep it for the session.
let keyPrompt = null;

function askForKey() {
  keyPrompt ??= (async () => {
    const dialog = $("key-dialog");
    $("key-input").value = "";
    dialog.showModal();
    await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
    const key = $("key-input").value.trim();
    if (key) sessionStorage.setItem("apiKey", key);
    return Boolean(key);
  })().finally(() => {
    keyPrompt = null;
  });
  return keyPrompt;
}

// --- Signing in (Cognito) --------------------------------------------------------------------
// Straight against Cognito's API, as its own SDKs do: USER_PASSWORD_AUTH, then refresh tokens.
// Tokens live in sessionStorage: gone when the tab closes, never sent anywhere but here.

async function cognitoCall(action, body) {
  const response = await fetch(cognito.endpoint + "/", {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || answer.__type || `Cognito answered ${response.status}`);
  return answer;
}

function keepTokens(result, user) {
  sessionStorage.setItem("accessToken", result.AccessToken);
  if (result.RefreshToken) sessionStorage.setItem("refreshToken", result.RefreshToken);
  if (user) sessionStorage.setItem("userName", user);
  showAccount();
}

function showAccount() {
  const user = sessionStorage.getItem("userName");
  $("account").hidden = !(signingIn && user && sessionStorage.getItem("accessToken"));
  $("account-name").textContent = user || "";
}

// An access token with less than this left is renewed before it is sent: tokens last 15
// minutes, and the margin covers a clock a little ahead of Cognito's and a slow request.
const RENEW_BEFORE_MS = 2 * 60 * 1000;

// When the token expires by its own `exp` claim (milliseconds), or 0 when it cannot be read.
function expiresAt(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(payload)).exp;
    return Number.isFinite(exp) ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

// One renewal at a time, however many requests find the token about to expire.
let renewal = null;

async function renewIfExpiring() {
  const token = sessionStorage.getItem("accessToken");
  if (!token || !sessionStorage.getItem("refreshToken")) return;
  if (expiresAt(token) - Date.now() > RENEW_BEFORE_MS) return;
  await renewTokens();
}

function renewTokens() {
  renewal ??= refreshTokens().finally(() => {
    renewal = null;
  });
  return renewal;
}

async function refreshTokens() {
  const token = sessionStorage.getItem("refreshToken");
  if (!token) return false;
  try {
    const answer = await cognitoCall("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: cognito.client,
      AuthParameters: { REFRESH_TOKEN: token },
    });
    keepTokens(answer.AuthenticationResult);
    return true;
  } catch {
    return false;
  }
}

// One sign-in at a time, however many requests were refused while it was open; resolves when
// signed in (a first sign-in with a temporary password sets a new one on the way).
let signInPrompt = null;

function signIn() {
  signInPrompt ??= new Promise((resolve) => {
    const dialog = $("signin-dialog");
    let challenge = null;
    $("signin-error").textContent = "";
    $("signin-password").value = "";
    dialog.showModal();
    // Nothing to see without signing in: the dialog stays until it succeeds.
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    $("signin-form").onsubmit = async (event) => {
      event.preventDefault();
      const user = $("signin-user").value.trim();
      $("signin-error").textContent = "";
      try {
        const answer = challenge
          ? await cognitoCall("RespondToAuthChallenge", {
              ChallengeName: challenge.ChallengeName,
              ClientId: cognito.client,
              Session: challenge.Session,
              ChallengeResponses: { USERNAME: user, NEW_PASSWORD: $("signin-new").value },
            })
          : await cognitoCall("InitiateAuth", {
              AuthFlow: "USER_PASSWORD_AUTH",
              ClientId: cognito.client,
              AuthParameters: { USERNAME: user, PASSWORD: $("signin-password").value },
            });
        if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
          challenge = answer;
          $("signin-new-label").hidden = false;
          $("signin-new").required = true;
          $("signin-error").textContent = "Choose a new password to finish signing in.";
          return;
        }
        if (!answer.AuthenticationResult) throw new Error(`cannot answer ${answer.ChallengeName || "this sign-in"} here`);
        keepTokens(answer.AuthenticationResult, user);
        dialog.close();
        resolve(true);
      } catch (error) {
        $("signin-error").textContent = `Could not sign in: ${error.message}`;
      }
    };
  }).finally(() => {
    signInPrompt = null;
  });
  return signInPrompt;
}

$("sign-out").addEventListener("click", async () => {
  const token = sessionStorage.getItem("refreshToken");
  sessionStorage.clear();
  // Ends the refresh token at Cognito too; signed out here whatever it answers.
  if (token) await cognitoCall("RevokeToken", { ClientId: cognito.client, Token: token }).catch(() => {});
  location.reload();
});

// A refused request: with Cognito, fresh tokens (refreshed, or by signing in); else an API key.
async function reauthorize() {
  if (signingIn) return (await renewTokens()) || signIn();
  return askForKey();
}

async function api(path, options = {}, retried = false) {
  const response = await fetch(new URL(path, base), { ...options, headers: await headers(options.headers) });
  if ((response.status === 401 || response.status === 403) && !retried && (await reauthorize())) {
    return api(path, options, true);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response;
}

// XMLHttpRequest, for its upload progress events (fetch has none).
function send(method, url, body, requestHeaders, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(requestHeaders)) {
      // The browser sets Content-Length itself, from the body.
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(body);
  });
}

function failure(xhr) {
  let problem = {};
  try {
    problem = JSON.parse(xhr.responseText);
  } catch {
    problem = { detail: `${xhr.status} ${xhr.statusText}` };
  }
  return new ApiError(xhr.status, problem);
}

// --- Formatting ------------------------------------------------------------------------------

function bytes(n) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${unit ? n.toFixed(1) : n} ${units[unit]}`;
}

function element(tag, properties = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, properties);
  node.append(...children);
  return node;
}

function say(message) {
  $("status").textContent = message;
}

// --- The grid --------------------------------------------------------------------------------

let nextToken = null;
let exhausted = false;
// A page failed to load: scrolling does not ask again until the user does (the Retry button).
let failed = false;
let loading = null;
let generation = 0;

// A date input's day (YYYY-MM-DD) as the instant its local midnight is, `days` later.
function localMidnight(day, days = 0) {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(year, month - 1, date + days);
}

// "From" and "To" are whole days in the user's time zone, both included; the API's bounds are
// UTC instants, both excluded.
function filters() {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const name = $("filter-name").value.trim();
  if (name) query.set("file_name", name);
  const from = $("filter-after").value;
  const to = $("filter-before").value;
  if (from) query.set("created_after", new Date(localMidnight(from).getTime() - 1).toISOString());
  if (to) query.set("created_before", localMidnight(to, 1).toISOString());
  return query;
}

// Thumbnails are fetched with the caller's credentials, so `Accept` is fetch()'s `*/*` and
// negotiates nothing: the page names WebP itself where the browser can handle it (every one
// since 2020; one that cannot encode it to a canvas is taken not to decode it either).
const THUMBNAIL_FORMAT = document.createElement("canvas").toDataURL("image/webp").startsWith("data:image/webp")
  ? "&format=webp"
  : "";

async function thumbnailInto(holder, id, size) {
  try {
    const response = await api(`images/${encodeURIComponent(id)}/thumbnail?size=${size}${THUMBNAIL_FORMAT}`);
    const url = URL.createObjectURL(await response.blob());
    const img = element("img", { src: url, alt: "" });
    img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
    holder.replaceChildren(img);
  } catch (error) {
    holder.replaceChildren(element("span", { textContent: "no preview" }));
  }
}

function card(record) {
  const thumb = element("span", { className: "thumb" });
  const button = element(
    "button",
    { type: "button", className: "card", title: record.file_name },
    thumb,
    element("span", { className: "name", textContent: record.file_name }),
  );
  button.dataset.id = record.id;
  button.addEventListener("click", () => openDetail(record.id));
  thumbnailInto(thumb, record.id, 256);
  return element("li", {}, button);
}

async function loadMore() {
  if (loading || exhausted || failed) return loading;
  const mine = generation;
  const query = filters();
  if (nextToken) query.set("next_token", nextToken);
  loading = (async () => {
    try {
      const page = await (await api(`images?${query}`)).json();
      if (mine !== generation) return;
      $("grid").append(...page.items.map(card));
      nextToken = page.next_token || null;
      exhausted = !nextToken;
      say($("grid").children.length ? "" : "No images yet.");
    } catch (error) {
      if (mine !== generation) return;
      failed = true;
      const retry = element("button", { type: "button", id: "retry", textContent: "Retry" });
      retry.addEventListener("click", () => {
        failed = false;
        say("");
        loadMore();
      });
      $("status").replaceChildren(`Could not list the images: ${error.message} `, retry);
    } finally {
      loading = null;
    }
  })();
  await loading;
  // Keep filling while the end of the grid is still in view.
  if (!exhausted && !failed && mine === generation && moreInView()) await loadMore();
}

function moreInView() {
  return $("more").getBoundingClientRect().top < innerHeight + 200;
}

function reload() {
  generation += 1;
  nextToken = null;
  exhausted = false;
  failed = false;
  loading = null;
  $("grid").replaceChildren();
  loadMore();
}

new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting)) loadMore();
}, { rootMargin: "200px" }).observe($("more"));

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  reload();
});
$("filters").addEventListener("reset", () => setTimeout(reload));

// --- Uploads ---------------------------------------------------------------------------------

// A fresh key per upload: the API does a POST at most once per key, so whatever repeats it
// (a retry, a proxy) cannot store the file twice. Random bytes rather than randomUUID(), which
// exists only in secure contexts.
function idempotencyKey() {
  const random = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Sent again, with the same key, once the user signed in again or gave an API key (401/403).
async function uploadInline(file, onProgress, key = idempotencyKey(), retried = false) {
  const query = new URLSearchParams({ file_name: file.name });
  const xhr = await send(
    "POST",
    new URL(`images?${query}`, base),
    file,
    await headers({ "Content-Type": file.type || "application/octet-stream", "Idempotency-Key": key }),
    onProgress,
  );
  if ((xhr.status === 401 || xhr.status === 403) && !retried && (await reauthorize())) {
    return uploadInline(file, onProgress, key, true);
  }
  if (xhr.status !== 201) throw failure(xhr);
  return JSON.parse(xhr.responseText);
}

// Plan, send each part straight to S3 with exactly its signed headers, complete.
async function uploadDirect(file, onProgress) {
  const plan = await (
    await api("uploads", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": idempotencyKey() },
      body: JSON.stringify({ file_name: file.name, size: file.size }),
    })
  ).json();
  try {
    return await sendAndComplete(file, plan, onProgress);
  } catch (error) {
    // Nothing half-made is left behind: the plan is abandoned (as the CLI does).
    await api(`uploads/${encodeURIComponent(plan.id)}`, { method: "DELETE" }).catch(() => {});
    throw error;
  }
}

async function sendAndComplete(file, plan, onProgress) {
  const parts = [];
  let sent = 0;
  for (const part of plan.parts) {
    const start = (part.number - 1) * plan.part_size;
    const piece = file.slice(start, Math.min(start + plan.part_size, file.size));
    const xhr = await send(part.method, part.url, piece, part.headers, (loaded) => onProgress(sent + loaded));
    if (xhr.status < 200 || xhr.status > 299) throw new Error(`S3 refused part ${part.number} (${xhr.status})`);
    // Read only when needed: a bucket whose CORS does not expose it makes the browser complain.
    if (plan.parts.length > 1) {
      const etag = xhr.getResponseHeader("ETag");
      if (!etag) throw new Error("the storage's CORS does not expose ETag, which a multi-part upload needs");
      parts.push({ number: part.number, etag });
    }
    sent += piece.size;
  }
  // One part needs no ETag; several need each one (the bucket's CORS exposes ETag).
  const body = plan.parts.length === 1 ? {} : { parts };
  return (
    await api(`uploads/${encodeURIComponent(plan.id)}/complete`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
  ).json();
}

// A few at a time: all at once, a folder of photos would share the bandwidth until every
// upload is slow, and hold every file's request open at once.
const UPLOADS_AT_ONCE = 3;

function uploadRow(file) {
  const progress = element("progress", { max: file.size, value: 0 });
  const message = element("span", { className: "message", textContent: `waiting, ${bytes(file.size)}` });
  const row = element("li", {}, element("span", { textContent: file.name }), progress, message);
  $("uploads").append(row);
  return { row, progress, message };
}

async function upload(file, { row, progress, message }) {
  message.textContent = bytes(file.size);
  row.classList.add("sending");
  const onProgress = (loaded) => {
    progress.value = loaded;
  };
  try {
    const record = await (file.size <= maxInlineBytes ? uploadInline : uploadDirect)(file, onProgress);
    progress.value = file.size;
    message.textContent = `uploaded, ${bytes(file.size)}`;
    return record;
  } catch (error) {
    row.classList.add("failed");
    message.textContent = `failed: ${error.message}`;
    return null;
  } finally {
    row.classList.remove("sending");
  }
}

async function uploadAll(files) {
  const queue = [...files].map((file) => [file, uploadRow(file)]);
  let uploaded = false;
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      uploaded = Boolean(await upload(...next)) || uploaded;
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, queue.length) }, worker));
  if (uploaded) reload();
}

const drop = $("drop");
$("choose").addEventListener("click", () => $("picker").click());
$("picker").addEventListener("change", () => {
  uploadAll($("picker").files);
  $("picker").value = "";
});
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  uploadAll(event.dataTransfer.files);
});

// --- Detail ----------------------------------------------------------------------------------

let shown = null;
let downloadUrl = null;

async function openDetail(id) {
  const dialog = $("detail");
  $("detail-error").textContent = "";
  let record;
  try {
    record = await (await api(`images/${encodeURIComponent(id)}`)).json();
  } catch (error) {
    say(`Could not open the image: ${error.message}`);
    return;
  }
  shown = record;
  $("detail-name").textContent = record.file_name;
  const facts = [
    ["Size", bytes(record.size)],
    ["Dimensions", record.width ? `${record.width} × ${record.height}` : "unknown"],
    ["Type", record.content_type],
    ["Uploaded", new Date(record.created_at).toLocaleString()],
    ...Object.entries(record.metadata || {}),
  ];
  $("detail-facts").replaceChildren(
    ...facts.flatMap(([term, value]) => [element("dt", { textContent: term }), element("dd", { textContent: value })]),
  );
  const link = $("detail-download");
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
  link.download = record.file_name;
  if (record.content_url) {
    // Past the inline limit: a short-lived URL straight to S3.
    link.href = record.content_url;
  } else {
    const content = Uint8Array.from(atob(record.content), (c) => c.charCodeAt(0));
    downloadUrl = URL.createObjectURL(new Blob([content], { type: record.content_type }));
    link.href = downloadUrl;
  }
  const figure = dialog.querySelector("figure");
  figure.replaceChildren(element("span", { textContent: "loading…" }));
  thumbnailInto(figure, record.id, 1024).then(() => {
    const img = figure.querySelector("img");
    if (img) img.alt = record.file_name;
  });
  dialog.showModal();
}

$("detail-close").addEventListener("click", () => $("detail").close());
$("detail-delete").addEventListener("click", async () => {
  if (!shown || !confirm(`Delete ${shown.file_name}? This cannot be undone.`)) return;
  try {
    await api(`images/${encodeURIComponent(shown.id)}`, { method: "DELETE" });
    document.querySelector(`.card[data-id="${CSS.escape(shown.id)}"]`)?.closest("li")?.remove();
    $("detail").close();
    say(`Deleted ${shown.file_name}.`);
  } catch (error) {
    $("detail-error").textContent = `Could not delete: ${error.message}`;
  }
});

showAccount();
if (signingIn && !sessionStorage.getItem("accessToken")) {
  signIn().then(() => loadMore());
} else {
  loadMore();
}
