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

// --- ACS3-HMAC-SHA256 (Alibaba Cloud IMM 2020-09-30) --------------------------------------

const IMM_VERSION = "2020-09-30";
const IMM_REGIONS = ["cn-beijing", "cn-hangzhou", "cn-shanghai", "cn-shenzhen", "cn-zhangjiakou",
  "cn-chengdu", "cn-hongkong", "ap-southeast-1", "ap-northeast-1", "eu-central-1", "us-west-1"];
const ALI_KEY = "cloudtwin.console.aliyun";

/** Alibaba Cloud's percent-encoding: unreserved A-Z a-z 0-9 - _ . ~ kept, upper-case hex. */
export const pct = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

/** The query string and headers of a signed ACS3 POST / with every parameter in the query. */
export async function acs3Request({ accessKeyId, accessKeySecret }, action, params, host, now = Date.now(), nonce = hex(crypto.getRandomValues(new Uint8Array(16)))) {
  const enc8 = (k) => enc.encode(k);
  const keys = Object.keys(params).sort((a, b) => {
    const x = enc8(a), y = enc8(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
  const query = keys.map((k) => `${pct(k)}=${pct(String(params[k]))}`).join("&");
  const empty = await sha256("");
  const h = {
    "host": host,
    "x-acs-action": action,
    "x-acs-content-sha256": empty,
    "x-acs-date": new Date(Math.floor(now / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    "x-acs-signature-nonce": nonce,
    "x-acs-version": IMM_VERSION,
  };
  const names = Object.keys(h).sort();
  const canonical = ["POST", "/", query, names.map((n) => `${n}:${h[n]}\n`).join(""), names.join(";"), empty].join("\n");
  const toSign = `ACS3-HMAC-SHA256\n${await sha256(canonical)}`;
  const signature = hex(await hmac(enc.encode(accessKeySecret), toSign));
  const headers = { "Accept": "application/json" };
  for (const n of names) if (n !== "host") headers[n] = h[n];
  headers["Authorization"] = `ACS3-HMAC-SHA256 Credential=${accessKeyId},SignedHeaders=${names.join(";")},Signature=${signature}`;
  return { query, headers };
}

function loadAli() {
  try { return JSON.parse(sessionStorage.getItem(ALI_KEY) || "null"); } catch { return null; }
}

async function callImm(action, params) {
  const creds = loadAli();
  if (!creds) throw new ApiError("SignedOut", "Sign in with an Alibaba Cloud AccessKey first.");
  const all = { RegionId: state.imm.region, ...params };
  const { query, headers } = await acs3Request(creds, action, all, location.host);
  let res;
  try {
    res = await fetch("/?" + query, { method: "POST", headers, cache: "no-store", credentials: "omit" });
  } catch (e) {
    throw new ApiError("NetworkError", `The request did not reach cloudtwin: ${e.message}`);
  }
  const json = await res.json().catch(() => null);
  if (!json) throw new ApiError(`HTTP${res.status}`, `cloudtwin answered HTTP ${res.status} with no JSON body.`);
  if (!res.ok || json.Code) throw new ApiError(json.Code || `HTTP${res.status}`, json.Message || "", json.RequestId);
  return json;
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

const state = {
  region: sessionStorage.getItem(KEY + ".region") || "ap-guangzhou", offset: 0, total: 0, image: null, live: null,
  imm: {
    region: sessionStorage.getItem(ALI_KEY + ".region") || "cn-hangzhou",
    project: sessionStorage.getItem(ALI_KEY + ".project") || "",
    dataset: sessionStorage.getItem(ALI_KEY + ".dataset") || "",
    tokens: [""], // NextToken of each page read so far; tokens[i] reads page i
    page: 0,
    cluster: null,
  },
};

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
  const tc = loadCreds(), ali = loadAli();
  const signedIn = !!(tc || ali);
  $("sign-in").hidden = signedIn;
  $("who").hidden = !signedIn;
  $("nav").hidden = !signedIn;
  $("nav-images").hidden = !tc;
  $("nav-clusters").hidden = !ali;
  if (signedIn) $("who-id").textContent = [tc && `${tc.secretId} (Tencent Cloud)`, ali && `${ali.accessKeyId} (Alibaba Cloud)`].filter(Boolean).join(", ");
  for (const v of ["images", "image", "clusters", "cluster"]) $(v).hidden = !signedIn || view !== v;
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
  const c = /^#\/imm\/cluster\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)$/.exec(location.hash);
  if (!loadCreds() && !loadAli()) return show("sign-in");
  if (c || location.hash.startsWith("#/imm") || !loadCreds()) {
    if (!loadAli()) {
      history.replaceState(null, "", "#/");
      return route();
    }
    if (c) {
      const [region, project, dataset, id] = c.slice(1).map(decodeURIComponent);
      setImm({ region, project, dataset });
      show("cluster");
      return busy(null, () => loadCluster(id));
    }
    show("clusters");
    return busy($("c-query"), loadClusterPage);
  }
  if (m) {
    show("image");
    await busy(null, () => loadImage(decodeURIComponent(m[1])));
  } else {
    show("images");
    await busy(null, loadList);
  }
}

// --- face clusters (IMM) ---------------------------------------------------------------

function setImm(changes) {
  Object.assign(state.imm, changes);
  for (const k of ["region", "project", "dataset"]) sessionStorage.setItem(`${ALI_KEY}.${k}`, state.imm[k]);
}

function resetPages() {
  state.imm.tokens = [""];
  state.imm.page = 0;
}

function fillSelect(select, names, current) {
  select.replaceChildren(...names.map((n) => new Option(n, n, false, n === current)));
  return names.includes(current) ? current : names[0] || "";
}

// Projects and datasets of the region (at most 100 each are listed), then the first page.
async function loadProjects() {
  $("c-region").value = state.imm.region;
  const r = await callImm("ListProjects", { MaxResults: 100 });
  const project = fillSelect($("c-project"), (r.Projects || []).map((p) => p.ProjectName), state.imm.project);
  setImm({ project });
  await loadDatasets();
}

async function loadDatasets() {
  if (!state.imm.project) {
    $("c-dataset").replaceChildren();
    setImm({ dataset: "" });
    return;
  }
  const r = await callImm("ListDatasets", { ProjectName: state.imm.project, MaxResults: 100 });
  const dataset = fillSelect($("c-dataset"), (r.Datasets || []).map((d) => d.DatasetName), state.imm.dataset);
  setImm({ dataset });
}

function clusterHref(id) {
  const { region, project, dataset } = state.imm;
  return `#/imm/cluster/${[region, project, dataset, id].map(encodeURIComponent).join("/")}`;
}

async function loadClusterPage() {
  if ($("c-project").options.length === 0 || $("c-region").value !== state.imm.region) await loadProjects();
  const list = $("cluster-list");
  if (!state.imm.project || !state.imm.dataset) {
    list.replaceChildren();
    $("c-count").textContent = `No ${state.imm.project ? "dataset" : "project"} in ${state.imm.region}.`;
    $("c-prev").disabled = $("c-next").disabled = true;
    $("c-page").textContent = "";
    return;
  }
  const q = $("c-query").elements;
  const params = {
    ProjectName: state.imm.project, DatasetName: state.imm.dataset,
    Sort: q.Sort.value, Order: q.Order.value, MaxResults: Number(q.MaxResults.value), WithTotalCount: true,
  };
  const token = state.imm.tokens[state.imm.page];
  if (token) params.NextToken = token;
  const r = await callImm("QueryFigureClusters", params);
  const items = (r.FigureClusters || []).map((c) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = clusterHref(c.ObjectId);
    a.textContent = c.Name || c.ObjectId;
    const facts = document.createElement("p");
    facts.textContent = `${c.ImageCount} image${c.ImageCount === 1 ? "" : "s"}, ${c.FaceCount} face${c.FaceCount === 1 ? "" : "s"}; updated ${c.UpdateTime}`;
    const id = document.createElement("p");
    id.className = "id";
    id.textContent = c.ObjectId;
    li.append(a, facts, id);
    return li;
  });
  list.replaceChildren(...items);
  state.imm.tokens.length = state.imm.page + 1;
  if (r.NextToken) state.imm.tokens.push(r.NextToken);
  const first = state.imm.page * params.MaxResults;
  const total = r.TotalCount;
  $("c-count").textContent = `${total ?? "?"} cluster${total === 1 ? "" : "s"} in ${state.imm.project}/${state.imm.dataset}; showing ${items.length ? first + 1 : 0}–${first + items.length}.`;
  $("c-page").textContent = `Page ${state.imm.page + 1}${total !== undefined ? ` of ${Math.max(1, Math.ceil(total / params.MaxResults))}` : ""}`;
  $("c-prev").disabled = state.imm.page === 0;
  $("c-next").disabled = !r.NextToken;
}

const CLUSTER_FIELDS = ["ObjectId", "Name", "Cover", "ImageCount", "FaceCount", "VideoCount", "CustomLabels",
  "MetaLockVersion", "Gender", "AverageAge", "MinAge", "MaxAge", "CreateTime", "UpdateTime"];

function renderCluster(c) {
  $("cluster-title").textContent = `Cluster ${c.Name || c.ObjectId}`;
  const items = [];
  for (const k of CLUSTER_FIELDS) {
    if (!(k in c)) continue;
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.id = `cattr-${k}`;
    if (k === "Cover") {
      const figs = (c.Cover.Figures || []).map((f) => f.FigureId).join(", ");
      dd.textContent = `${c.Cover.URI || "—"}${figs ? ` (face ${figs})` : ""}`;
    } else dd.textContent = attributeValue(c[k]);
    items.push(dt, dd);
  }
  $("cluster-attributes").replaceChildren(...items);
}

async function loadCluster(id) {
  $("conflict").hidden = true;
  $("cluster-back").href = "#/imm";
  const r = await callImm("GetFigureCluster", { ProjectName: state.imm.project, DatasetName: state.imm.dataset, ObjectId: id });
  const c = r.FigureCluster;
  state.imm.cluster = c;
  renderCluster(c);
  const f = $("c-update").elements;
  f.Name.value = c.Name ?? "";
  f.CustomLabels.value = JSON.stringify(c.CustomLabels || {});
  $("c-lock").textContent = `Saving sends MetaLockVersion ${c.MetaLockVersion}, the version read.`;
}

function wireClusters() {
  const region = $("c-region");
  region.replaceChildren(...IMM_REGIONS.map((r) => new Option(r, r, false, r === state.imm.region)));
  region.addEventListener("change", () => {
    setImm({ region: region.value, project: "", dataset: "" });
    resetPages();
    clearMessages();
    busy($("c-query"), async () => { await loadProjects(); await loadClusterPage(); });
  });
  $("c-project").addEventListener("change", (ev) => {
    setImm({ project: ev.target.value, dataset: "" });
    resetPages();
    clearMessages();
    busy($("c-query"), async () => { await loadDatasets(); await loadClusterPage(); });
  });
  $("c-dataset").addEventListener("change", (ev) => {
    setImm({ dataset: ev.target.value });
    resetPages();
    clearMessages();
    busy($("c-query"), loadClusterPage);
  });
  $("c-query").addEventListener("submit", (ev) => {
    ev.preventDefault();
    resetPages();
    clearMessages();
    busy(ev.target, loadClusterPage);
  });
  $("c-prev").addEventListener("click", () => {
    state.imm.page = Math.max(0, state.imm.page - 1);
    busy($("c-query"), loadClusterPage);
  });
  $("c-next").addEventListener("click", () => {
    if (state.imm.tokens.length > state.imm.page + 1) state.imm.page += 1;
    busy($("c-query"), loadClusterPage);
  });
  $("c-update").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const c = state.imm.cluster;
    if (!c) return;
    const f = ev.target.elements;
    busy(ev.target, async () => {
      let labels;
      try { labels = JSON.parse(f.CustomLabels.value || "{}"); } catch { labels = null; }
      if (!labels || typeof labels !== "object" || Array.isArray(labels)) {
        throw new ApiError("InvalidInput", "Custom labels must be a JSON object, e.g. {\"role\": \"friend\"}.");
      }
      const fc = { ObjectId: c.ObjectId, MetaLockVersion: c.MetaLockVersion, Name: f.Name.value, CustomLabels: labels };
      try {
        await callImm("UpdateFigureCluster", { ProjectName: state.imm.project, DatasetName: state.imm.dataset, FigureCluster: JSON.stringify(fc) });
      } catch (e) {
        // Someone changed the cluster since it was read: never retry with a fresher version
        // behind the user's back; show the refusal and offer to read it again.
        if (/MetaLockVersion/.test(e.message)) $("conflict").hidden = false;
        throw e;
      }
      await loadCluster(c.ObjectId);
      showStatus(`Saved ${c.ObjectId}.`);
    });
  });
  $("c-reload").addEventListener("click", () => {
    const c = state.imm.cluster;
    if (!c) return;
    clearMessages();
    busy(null, async () => {
      await loadCluster(c.ObjectId);
      showStatus(`Reloaded ${c.ObjectId}: MetaLockVersion ${state.imm.cluster.MetaLockVersion}.`);
      $("c-name").focus();
    });
  });
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

  const labels = () => {
    const ali = $("sign-in-form").elements.cloud.value === "aliyun";
    $("secret-id-label").textContent = ali ? "AccessKey ID" : "SecretId";
    $("secret-key-label").textContent = ali ? "AccessKey secret" : "SecretKey";
  };
  for (const r of $("sign-in-form").elements.cloud) r.addEventListener("change", labels);
  labels();

  $("sign-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const ali = f.elements.cloud.value === "aliyun";
    const id = f.elements["secret-id"].value.trim(), secret = f.elements["secret-key"].value;
    const [key, check, refused] = ali
      ? [ALI_KEY, () => callImm("ListProjects", { MaxResults: 1 }), /^(InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken)/]
      : [KEY, () => call("DescribeImages", { Limit: 1 }), /^AuthFailure/];
    sessionStorage.setItem(key, JSON.stringify(ali ? { accessKeyId: id, accessKeySecret: secret } : { secretId: id, secretKey: secret }));
    await busy(f, async () => {
      try {
        await check();
      } catch (e) {
        // A refusal of the key itself signs out; any other (a policy's) still lets the key in.
        if (refused.test(e.code)) sessionStorage.removeItem(key);
        throw e;
      }
    });
    f.elements["secret-key"].value = "";
    if (!sessionStorage.getItem(key)) return;
    clearMessages();
    showStatus("Signed in.");
    history.replaceState(null, "", ali ? "#/imm" : "#/");
    await route();
    $(ali ? "clusters-title" : "images-title").focus?.();
  });

  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ALI_KEY);
    state.imm.cluster = null;
    $("c-project").replaceChildren();
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

  wireClusters();
  for (const h of ["images-title", "image-title", "clusters-title", "cluster-title"]) $(h).tabIndex = -1;
  window.addEventListener("hashchange", () => {
    clearMessages();
    route();
  });
  route();
}

if (typeof document !== "undefined") init();
