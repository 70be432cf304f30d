// The cloudtwin console: a client of the Tencent Cloud API 3.0 as the official SDKs are. Each
// request is signed here (TC3-HMAC-SHA256 with Web Crypto) with the key pair kept in this tab's
// sessionStorage and sent to POST /, so every answer and refusal is the API's own.

const CVM = { service: "cvm", version: "2017-03-12" };
const REGIONS = ["ap-bangkok", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou",
  "ap-guangzhou-open", "ap-hongkong", "ap-jakarta", "ap-mumbai", "ap-nanjing", "ap-seoul",
  "ap-shanghai", "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-singapore", "ap-tokyo",
  "eu-frankfurt", "eu-moscow", "na-ashburn", "na-siliconvalley", "na-toronto", "sa-saopaulo"];
const KEY = "cloudtwin.console.tencent";
const enc = new TextEncoder();
const $ = (id) => document.getElementById(id);

// --- TC3-HMAC-SHA256 ---------------------------------------------------------------------

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (text) => hex(await crypto.subtle.digest("SHA-256", enc.encode(text)));
async function hmac(key, msg) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}

/** The headers of a signed TC3 POST with a JSON body, as the SDKs send it. */
export async function tc3Headers({ secretId, secretKey }, { service, version }, action, region, body, host, now = Date.now()) {
  const timestamp = Math.floor(now / 1000);
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const contentType = "application/json; charset=utf-8";
  const canonical = ["POST", "/", "", `content-type:${contentType}\nhost:${host}\n`,
    "content-type;host", await sha256(body)].join("\n");
  const scope = `${date}/${service}/tc3_request`;
  const toSign = ["TC3-HMAC-SHA256", String(timestamp), scope, await sha256(canonical)].join("\n");
  const kDate = await hmac(enc.encode("TC3" + secretKey), date);
  const kService = await hmac(kDate, service);
  const kSigning = await hmac(kService, "tc3_request");
  const signature = hex(await hmac(kSigning, toSign));
  const headers = {
    "Authorization": `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
    "Content-Type": contentType,
    "X-TC-Action": action,
    "X-TC-Timestamp": String(timestamp),
    "X-TC-Version": version,
  };
  if (region) headers["X-TC-Region"] = region;
  return headers;
}

class ApiError extends Error {
  constructor(code, message, requestId) {
    super(message);
    this.code = code;
    this.requestId = requestId;
  }
}

async function call(action, params, product = CVM) {
  const creds = loadCreds();
  if (!creds) throw new ApiError("SignedOut", "Sign in first.");
  const body = JSON.stringify(params);
  const headers = await tc3Headers(creds, product, action, state.region, body, location.host);
  let res;
  try {
    res = await fetch("/", { method: "POST", headers, body, cache: "no-store", credentials: "omit" });
  } catch (e) {
    throw new ApiError("NetworkError", `The request did not reach cloudtwin: ${e.message}`);
  }
  const json = await res.json().catch(() => null);
  const r = json && json.Response;
  if (!r) throw new ApiError(`HTTP${res.status}`, `cloudtwin answered HTTP ${res.status} with no API envelope.`);
  if (r.Error) throw new ApiError(r.Error.Code, r.Error.Message, r.RequestId);
  return r;
}

// --- state and messages ------------------------------------------------------------------

const state = { region: sessionStorage.getItem(KEY + ".region") || "ap-guangzhou", offset: 0, total: 0, image: null, live: null };

function loadCreds() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
}

function showError(e) {
  $("status").textContent = "";
  $("alert").textContent = e instanceof ApiError
    ? `${e.code}: ${e.message}${e.requestId ? ` (RequestId ${e.requestId})` : ""}`
    : String(e && e.message || e);
}
function showStatus(text) {
  $("alert").textContent = "";
  $("status").textContent = text;
}
function clearMessages() {
  $("alert").textContent = "";
  $("status").textContent = "";
}

async function busy(form, work) {
  const buttons = form ? [...form.querySelectorAll("button")] : [];
  buttons.forEach((b) => (b.disabled = true));
  try { return await work(); } catch (e) { showError(e); } finally { buttons.forEach((b) => (b.disabled = false)); }
}

// --- views -------------------------------------------------------------------------------

function show(view) {
  const signedIn = !!loadCreds();
  $("sign-in").hidden = signedIn;
  $("who").hidden = !signedIn;
  if (signedIn) $("who-id").textContent = loadCreds().secretId;
  $("images").hidden = !signedIn || view !== "images";
  $("image").hidden = !signedIn || view !== "image";
}

function filters() {
  const f = $("filters");
  const out = [];
  for (const name of ["image-name", "image-state", "image-type", "tag-key"]) {
    const v = f.elements[name].value.trim();
    if (v) out.push({ Name: name, Values: [v] });
  }
  return out;
}

async function loadList() {
  const limit = Number($("f-limit").value);
  const params = { Offset: state.offset, Limit: limit };
  const fs = filters();
  if (fs.length) params.Filters = fs;
  const r = await call("DescribeImages", params);
  state.total = r.TotalCount;
  const rows = r.ImageSet.map((i) => {
    const tr = document.createElement("tr");
    const cells = [["Name", null], ["ID", i.ImageId], ["State", i.ImageState + (i.ImageState === "SYNCING" || i.ImageState === "CREATING" ? ` (${i.SyncPercent ?? 0}%)` : "")],
      ["Type", i.ImageType], ["Created", i.CreatedTime]];
    for (const [label, text] of cells) {
      const td = document.createElement("td");
      td.dataset.label = label;
      if (text === null) {
        const a = document.createElement("a");
        a.href = `#/image/${encodeURIComponent(i.ImageId)}`;
        a.textContent = i.ImageName || i.ImageId;
        td.append(a);
      } else td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  $("image-table").tBodies[0].replaceChildren(...rows);
  const first = r.TotalCount === 0 ? 0 : state.offset + 1;
  const last = state.offset + r.ImageSet.length;
  $("count").textContent = `${r.TotalCount} image${r.TotalCount === 1 ? "" : "s"} in ${state.region}; showing ${first}–${last}.`;
  const pages = Math.max(1, Math.ceil(r.TotalCount / limit));
  $("page").textContent = `Page ${Math.floor(state.offset / limit) + 1} of ${pages}`;
  $("prev").disabled = state.offset === 0;
  $("next").disabled = last >= r.TotalCount;
}

function attributeValue(v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v, null, 1);
  return String(v);
}

const PENDING = new Set(["CREATING", "SYNCING", "IMPORTING"]);
const LIVE_EVERY_MS = 1000;

function renderAttributes(img) {
  $("image-title").textContent = `Image ${img.ImageName} (${img.ImageId})`;
  const items = [];
  for (const [k, v] of Object.entries(img)) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.id = `attr-${k}`;
    dd.textContent = attributeValue(v);
    items.push(dt, dd);
  }
  $("attributes").replaceChildren(...items);
}

async function fetchImage(id) {
  const r = await call("DescribeImages", { ImageIds: [id] });
  const img = r.ImageSet[0];
  if (!img) throw new ApiError("InvalidImageId.NotFound", `No image ${id} in ${state.region} is visible to this key.`);
  return img;
}

// While an image is being created, synced or imported, its page re-reads it every second
// (only the attributes: a form being edited is left alone) until it leaves that state.
function watch(img) {
  clearTimeout(state.live);
  if (!PENDING.has(img.ImageState)) return;
  state.live = setTimeout(async () => {
    if (!state.image || state.image.ImageId !== img.ImageId || $("image").hidden) return;
    try {
      const now = await fetchImage(img.ImageId);
      state.image = now;
      renderAttributes(now);
      watch(now);
    } catch (e) {
      showError(e);
    }
  }, LIVE_EVERY_MS);
}

async function loadImage(id) {
  const img = await fetchImage(id);
  state.image = img;
  renderAttributes(img);
  watch(img);
  const m = $("modify").elements;
  m.ImageName.value = img.ImageName;
  m.ImageDescription.value = img.ImageDescription ?? "";
  m.ImageFamily.value = img.ImageFamily ?? "";
  m.ImageDeprecated.checked = !!img.ImageDeprecated;
  $("shares").textContent = "—";
  if (img.ImageType === "PRIVATE_IMAGE") {
    try {
      const s = await call("DescribeImageSharePermission", { ImageId: id });
      const list = (s.SharePermissionSet || []).map((p) => p.AccountId);
      $("shares").textContent = list.length ? `Shared with ${list.join(", ")}.` : "Not shared.";
    } catch (e) {
      $("shares").textContent = `Share list unavailable: ${e.code || ""} ${e.message}`;
    }
  }
}

async function route() {
  const m = /^#\/image\/(.+)$/.exec(location.hash);
  if (!loadCreds()) return show("sign-in");
  if (m) {
    show("image");
    await busy(null, () => loadImage(decodeURIComponent(m[1])));
  } else {
    show("images");
    await busy(null, loadList);
  }
}

// --- wiring ------------------------------------------------------------------------------

function init() {
  if (!globalThis.crypto || !crypto.subtle) {
    showError(new ApiError("InsecureContext", "Signing needs Web Crypto, which browsers give only to HTTPS or loopback pages: open the console over the TLS listener or on 127.0.0.1."));
  }
  const region = $("region");
  region.replaceChildren(...REGIONS.map((r) => new Option(r, r, false, r === state.region)));
  region.addEventListener("change", () => {
    state.region = region.value;
    sessionStorage.setItem(KEY + ".region", state.region);
    state.offset = 0;
    clearMessages();
    busy($("filters"), loadList);
  });

  $("sign-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const creds = { secretId: f.elements["secret-id"].value.trim(), secretKey: f.elements["secret-key"].value };
    sessionStorage.setItem(KEY, JSON.stringify(creds));
    await busy(f, async () => {
      try {
        await call("DescribeImages", { Limit: 1 });
      } catch (e) {
        // A refusal of the key itself signs out; any other (a policy's) still lets the key in.
        if (/^AuthFailure/.test(e.code)) sessionStorage.removeItem(KEY);
        throw e;
      }
    });
    f.elements["secret-key"].value = "";
    if (!loadCreds()) return;
    clearMessages();
    showStatus("Signed in.");
    await route();
    $("images-title").focus?.();
  });

  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    state.image = null;
    clearMessages();
    history.replaceState(null, "", "#/");
    show("sign-in");
    $("secret-id").focus();
  });

  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.offset = 0;
    clearMessages();
    busy(ev.target, loadList);
  });
  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - Number($("f-limit").value));
    busy($("filters"), loadList);
  });
  $("next").addEventListener("click", () => {
    state.offset += Number($("f-limit").value);
    busy($("filters"), loadList);
  });

  $("modify").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const img = state.image;
    if (!img) return;
    const m = ev.target.elements;
    const params = { ImageId: img.ImageId };
    if (m.ImageName.value !== img.ImageName) params.ImageName = m.ImageName.value;
    if (m.ImageDescription.value !== (img.ImageDescription ?? "")) params.ImageDescription = m.ImageDescription.value;
    if (m.ImageFamily.value !== (img.ImageFamily ?? "")) params.ImageFamily = m.ImageFamily.value;
    if (m.ImageDeprecated.checked !== !!img.ImageDeprecated) params.ImageDeprecated = m.ImageDeprecated.checked;
    busy(ev.target, async () => {
      if (Object.keys(params).length === 1) return showStatus("Nothing to change.");
      await call("ModifyImageAttribute", params);
      await loadImage(img.ImageId);
      showStatus(`Saved ${img.ImageId}.`);
    });
  });

  $("share").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const img = state.image;
    if (!img) return;
    const permission = ev.submitter ? ev.submitter.value : "SHARE";
    const accounts = ev.target.elements.AccountIds.value.split(",").map((s) => s.trim()).filter(Boolean);
    busy(ev.target, async () => {
      await call("ModifyImageSharePermission", { ImageId: img.ImageId, AccountIds: accounts, Permission: permission });
      await loadImage(img.ImageId);
      showStatus(`${permission === "SHARE" ? "Shared" : "Unshared"} ${img.ImageId}.`);
    });
  });

  const dialog = $("confirm-delete");
  $("delete").addEventListener("click", () => {
    if (!state.image) return;
    $("confirm-what").textContent = `${state.image.ImageName} (${state.image.ImageId})`;
    dialog.showModal();
  });
  dialog.addEventListener("close", () => {
    const img = state.image;
    if (dialog.returnValue !== "delete" || !img) return;
    busy(null, async () => {
      await call("DeleteImages", { ImageIds: [img.ImageId] });
      // pushState fires no hashchange, so nothing clears the message after it is shown.
      history.pushState(null, "", "#/");
      await route();
      showStatus(`Deleted ${img.ImageId}.`);
    });
  });

  $("images-title").tabIndex = -1;
  $("image-title").tabIndex = -1;
  window.addEventListener("hashchange", () => {
    clearMessages();
    route();
  });
  route();
}

if (typeof document !== "undefined") init();
