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
export async function tc3Headers({ secretId, secretKey, token }, { service, version }, action, region, body, host, now = Date.now()) {
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
  if (token) headers["X-TC-Token"] = token; // a temporary key's token, unsigned as in the SDKs
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
export async function acs3Request({ accessKeyId, accessKeySecret, securityToken }, action, params, host, now = Date.now(), nonce = hex(crypto.getRandomValues(new Uint8Array(16)))) {
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
  if (securityToken) h["x-acs-security-token"] = securityToken; // signed, as the Tea SDK does
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

// --- the admin token (cloudtwin's own routes) --------------------------------------------

const ADMIN_KEY = "cloudtwin.console.admin";
const OPS_EVERY_MS = 3000; // health, metrics and the journal are re-read this often
const SPARK_POINTS = 20; // samples of the request count kept per action for its sparkline

const loadAdmin = () => sessionStorage.getItem(ADMIN_KEY);

/** A request to /_cloudtwin/<path> with the admin token; JSON answers are parsed. */
async function callAdmin(path, { method = "GET", body } = {}) {
  const token = loadAdmin();
  if (!token) throw new ApiError("SignedOut", "Sign in with the admin token first.");
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/_cloudtwin/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", credentials: "omit" });
  } catch (e) {
    throw new ApiError("NetworkError", `The request did not reach cloudtwin: ${e.message}`);
  }
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* Prometheus text, or not JSON */ }
  if (!res.ok) throw new ApiError(`HTTP ${res.status}`, (json && json.error) || text || res.statusText);
  return json ?? text;
}

/** Prometheus text: the request counters and latency sums, by "dialect/action". */
export function parseMetrics(text) {
  const out = new Map();
  const get = (labels) => {
    const k = `${labels.dialect}/${labels.action}`;
    if (!out.has(k)) out.set(k, { key: k, requests: 0, codes: {}, sum: 0, count: 0, buckets: [] });
    return out.get(k);
  };
  for (const line of text.split("\n")) {
    const m = /^(cloudtwin_requests_total|cloudtwin_request_duration_seconds_sum|cloudtwin_request_duration_seconds_count|cloudtwin_request_duration_seconds_bucket)\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    const v = Number(m[3]);
    const a = get(labels);
    if (m[1] === "cloudtwin_requests_total") {
      a.requests += v;
      a.codes[labels.code] = (a.codes[labels.code] || 0) + v;
    } else if (m[1].endsWith("_sum")) a.sum = v;
    else if (m[1].endsWith("_bucket")) a.buckets.push([labels.le === "+Inf" ? Infinity : Number(labels.le), v]);
    else a.count = v;
  }
  return out;
}

/** The q-quantile (0..1) of cumulative histogram buckets [[upper bound s, count]], in seconds,
 * interpolated within its bucket as Prometheus' histogram_quantile does; null without data. */
export function quantile(buckets, q) {
  const b = [...buckets].sort((x, y) => x[0] - y[0]);
  const total = b.length ? b[b.length - 1][1] : 0;
  if (!total) return null;
  const rank = q * total;
  let lower = 0, below = 0;
  for (const [upper, count] of b) {
    if (count >= rank) {
      if (upper === Infinity) return lower; // beyond the last bound: at least that
      return lower + (upper - lower) * ((rank - below) / Math.max(1, count - below));
    }
    lower = upper;
    below = count;
  }
  return lower;
}

const ms = (s) => (s === null ? "—" : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`);

/** The unlabelled gauges and counters of the metrics text, by name. */
export function parseGauges(text) {
  const out = {};
  for (const m of text.matchAll(/^(cloudtwin_[a-z_]+) (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

/** The action and answer code of one journal line. */
export function journalSummary(e) {
  const h = (e.request && e.request.headers) || {};
  const q = new URLSearchParams((e.request && e.request.query) || "");
  const action = h["x-tc-action"] || h["x-acs-action"] || q.get("Action") || "unknown";
  let code = "Success";
  try {
    const b = JSON.parse((e.response && e.response.body) || "null");
    code = (b && b.Response && b.Response.Error && b.Response.Error.Code) || (b && b.Code) || code;
  } catch { if (e.response && e.response.status >= 400) code = `HTTP ${e.response.status}`; }
  return { time: e.time, action, code, status: e.response ? e.response.status : "", requestId: e.request_id };
}

// --- state and messages ------------------------------------------------------------------

const state = {
  region: sessionStorage.getItem(KEY + ".region") || "ap-guangzhou", offset: 0, total: 0, image: null, live: null,
  imm: {
    region: sessionStorage.getItem(ALI_KEY + ".region") || "cn-hangzhou",
    project: sessionStorage.getItem(ALI_KEY + ".project") || "",
    dataset: sessionStorage.getItem(ALI_KEY + ".dataset") || "",
    tokens: [""], // NextToken of each page read so far; tokens[i] reads page i
    facesToken: "", // NextToken of the cluster's next faces
    page: 0,
    cluster: null,
  },
  ops: { timer: null, last: null, history: new Map(), entries: [] },
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
  const tc = loadCreds(), ali = loadAli(), admin = loadAdmin();
  const signedIn = !!(tc || ali || admin);
  $("sign-in").hidden = signedIn && view !== "sign-in";
  $("nav-add").hidden = !signedIn || view === "sign-in";
  $("who").hidden = !signedIn;
  $("nav").hidden = !signedIn;
  $("nav-images").hidden = !tc;
  $("nav-clusters").hidden = !ali;
  $("nav-ops").hidden = !admin;
  if (signedIn) $("who-id").textContent = [tc && `${tc.secretId} (Tencent Cloud)`, ali && `${ali.accessKeyId} (Alibaba Cloud)`, admin && "the admin token"].filter(Boolean).join(", ");
  for (const v of ["images", "image", "clusters", "cluster", "ops"]) $(v).hidden = !signedIn || view !== v;
  if (view !== "ops") stopOps();
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

function imageRow(i) {
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
}

// DescribeImages has no family filter: a family is looked up as the API offers it, the newest
// NORMAL, non-deprecated image of the family (DescribeImageFromFamily); other filters are off.
async function loadFamily(family) {
  const r = await call("DescribeImageFromFamily", { ImageFamily: family });
  $("image-table").tBodies[0].replaceChildren(...(r.Image ? [imageRow(r.Image)] : []));
  $("create").hidden = !loadAdmin();
  $("count").textContent = r.Image
    ? `The newest usable image of family ${family} in ${state.region} (DescribeImageFromFamily; the other filters do not apply).`
    : `No usable image of family ${family} in ${state.region} (none NORMAL and not deprecated).`;
  $("page").textContent = "";
  $("prev").disabled = $("next").disabled = true;
}

async function loadList() {
  const family = $("f-family").value.trim();
  if (family) return loadFamily(family);
  const limit = Number($("f-limit").value);
  const params = { Offset: state.offset, Limit: limit };
  const fs = filters();
  if (fs.length) params.Filters = fs;
  const r = await call("DescribeImages", params);
  state.total = r.TotalCount;
  const rows = r.ImageSet.map(imageRow);
  $("image-table").tBodies[0].replaceChildren(...rows);
  $("create").hidden = !loadAdmin();
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
  if (!loadCreds() && !loadAli() && !loadAdmin() || location.hash === "#/sign-in") return show("sign-in");
  if (loadAdmin() && (location.hash.startsWith("#/ops") || (!loadCreds() && !loadAli()))) {
    if (!location.hash.startsWith("#/ops")) history.replaceState(null, "", "#/ops");
    show("ops");
    busy($("settings"), loadSettings);
    return startOps();
  }
  if (location.hash.startsWith("#/ops")) {
    history.replaceState(null, "", "#/");
    return route();
  }
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
  const labels = q.CustomLabels.value.trim();
  if (labels) params.CustomLabels = labels;
  for (const [param, from, to] of [["CreateTimeRange", "createdFrom", "createdTo"], ["UpdateTimeRange", "updatedFrom", "updatedTo"]]) {
    const range = {};
    if (q[from].value) range.Start = localTime(q[from].value);
    if (q[to].value) range.End = localTime(q[to].value);
    if (range.Start || range.End) params[param] = JSON.stringify(range);
  }
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

/** A datetime-local value (this browser's time zone) as RFC 3339 UTC. */
export const localTime = (v) => new Date(v).toISOString().replace(/\.\d{3}Z$/, "Z");

const TASK_EVERY_MS = 1000; // a running task is re-read this often

/** Follows a task with GetTask until it ends, in `out`; returns its last state. */
async function followTask(taskId, out) {
  const project = state.imm.project, type = taskId.split("-")[0];
  const say = (text, status) => {
    out.textContent = text;
    out.dataset.status = status;
  };
  say(`Task ${taskId}: started.`, "Running");
  for (;;) {
    const t = await callImm("GetTask", { ProjectName: project, TaskType: type, TaskId: taskId });
    const failure = t.Status === "Failed" ? `: ${t.Code}: ${t.Message}` : "";
    say(`Task ${taskId} (${t.TaskType}): ${t.Status}, progress ${t.Progress ?? 0}%${failure}.`, t.Status);
    if (t.Status !== "Running") return t;
    await new Promise((ok) => setTimeout(ok, TASK_EVERY_MS));
    // Left the view (or signed out): stop following; the task runs on regardless.
    if (out.closest("section").hidden || !loadAli()) return null;
  }
}

/** UpdateFigureCluster with the version read; a lock mismatch offers the reload. */
async function updateCluster(changes) {
  const c = state.imm.cluster;
  const fc = { ObjectId: c.ObjectId, MetaLockVersion: c.MetaLockVersion, ...changes };
  try {
    await callImm("UpdateFigureCluster", { ProjectName: state.imm.project, DatasetName: state.imm.dataset, FigureCluster: JSON.stringify(fc) });
  } catch (e) {
    // Someone changed the cluster since it was read: never retry with a fresher version
    // behind the user's back; show the refusal and offer to read it again.
    if (/MetaLockVersion/.test(e.message)) $("conflict").hidden = false;
    throw e;
  }
  await loadCluster(c.ObjectId);
}

const FACES_PAGE = 20;

function coverFigure(c) {
  return ((c.Cover && c.Cover.Figures) || [])[0]?.FigureId || "";
}

// The cluster's faces: SimpleQuery by FigureClusterId gives the files with a face in it;
// each face of the cluster is shown with its attributes, its boundary and its file.
async function loadFaces(id, more = false) {
  const params = { ProjectName: state.imm.project, DatasetName: state.imm.dataset, MaxResults: FACES_PAGE,
    Query: JSON.stringify({ Field: "FigureClusterId", Operation: "eq", Value: id }) };
  if (more) params.NextToken = state.imm.facesToken;
  const r = await callImm("SimpleQuery", params);
  if (!state.imm.cluster || state.imm.cluster.ObjectId !== id) return;
  const cover = coverFigure(state.imm.cluster);
  const items = [];
  for (const file of r.Files || []) {
    for (const f of (file.Figures || []).filter((x) => x.FigureClusterId === id)) {
      const li = document.createElement("li");
      li.dataset.figure = f.FigureId;
      const title = document.createElement("p");
      title.className = "id";
      title.textContent = `Face ${f.FigureId}`;
      const from = document.createElement("p");
      from.textContent = `From ${file.URI}`;
      const facts = document.createElement("p");
      const b = f.Boundary;
      facts.textContent = [f.Age !== undefined && `age ${f.Age}`, f.Gender && `gender ${f.Gender}`,
        f.FaceQuality !== undefined && `quality ${f.FaceQuality}`,
        b ? `boundary left ${b.Left}, top ${b.Top}, ${b.Width}×${b.Height}` : "no boundary"].filter(Boolean).join("; ");
      li.append(title, from, facts);
      if (f.FigureId === cover) {
        const p = document.createElement("p");
        p.className = "cover";
        p.textContent = "This is the cover face.";
        li.append(p);
      } else {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = "Use as cover";
        btn.setAttribute("aria-label", `Use face ${f.FigureId} as the cover`);
        btn.addEventListener("click", () => {
          clearMessages();
          busy($("faces"), async () => {
            await updateCluster({ Cover: { Figures: [{ FigureId: f.FigureId }] } });
            showStatus(`The cover of ${id} is now face ${f.FigureId}.`);
          });
        });
        li.append(btn);
      }
      items.push(li);
    }
  }
  if (more) $("faces").append(...items); else $("faces").replaceChildren(...items);
  state.imm.facesToken = r.NextToken || "";
  $("faces-more").hidden = !r.NextToken;
  const shown = $("faces").children.length;
  $("faces-count").textContent = `${shown} face${shown === 1 ? "" : "s"} shown, from ${r.TotalHits ?? "?"} file${r.TotalHits === 1 ? "" : "s"}.`;
}

// The other clusters of the dataset (by name, at most 100) to merge into this one.
async function loadMergeChoices(id) {
  const r = await callImm("QueryFigureClusters", { ProjectName: state.imm.project, DatasetName: state.imm.dataset, Sort: "Name", Order: "asc", MaxResults: 100 });
  const others = (r.FigureClusters || []).filter((c) => c.ObjectId !== id);
  $("c-merge-from").replaceChildren(...others.map((c) => new Option(`${c.Name || c.ObjectId} (${c.FaceCount} faces, ${c.ObjectId})`, c.ObjectId)));
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
  // A key that may read the cluster but not query files (or list clusters) still sees it.
  await Promise.all([
    loadFaces(id).catch((e) => {
      $("faces").replaceChildren();
      $("faces-more").hidden = true;
      $("faces-count").textContent = `Faces unavailable: ${e.code}: ${e.message}`;
    }),
    loadMergeChoices(id).catch((e) => {
      $("c-merge-from").replaceChildren(new Option(`unavailable: ${e.code}`, ""));
    }),
  ]);
}

function wireClusters() {
  $("c-tz").textContent = (() => { const m = -new Date().getTimezoneOffset(); return `${m < 0 ? "−" : "+"}${String(Math.floor(Math.abs(m) / 60)).padStart(2, "0")}:${String(Math.abs(m) % 60).padStart(2, "0")}`; })();
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
      await updateCluster({ Name: f.Name.value, CustomLabels: labels });
      showStatus(`Saved ${c.ObjectId}.`);
    });
  });
  $("faces-more").addEventListener("click", () => {
    const c = state.imm.cluster;
    if (c) busy(null, () => loadFaces(c.ObjectId, true));
  });
  $("c-merge").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const c = state.imm.cluster, from = ev.target.elements.From.value;
    if (!c || !from) return;
    clearMessages();
    busy(ev.target, async () => {
      const r = await callImm("CreateFigureClustersMergingTask", { ProjectName: state.imm.project, DatasetName: state.imm.dataset, From: from, To: c.ObjectId });
      const t = await followTask(r.TaskId, $("c-merge-task"));
      if (!t) return;
      if (t.Status !== "Succeeded") throw new ApiError(t.Code || t.Status, t.Message || `The merging task ended ${t.Status}.`);
      await loadCluster(c.ObjectId);
      showStatus(`Merged ${from} into ${c.ObjectId}.`);
    });
  });
  $("c-cluster-run").addEventListener("click", () => {
    if (!state.imm.project || !state.imm.dataset) return;
    clearMessages();
    // The rest of the view stays usable while the task runs; only this button waits.
    busy(null, async () => {
      $("c-cluster-run").disabled = true;
      try {
        const r = await callImm("CreateFigureClusteringTask", { ProjectName: state.imm.project, DatasetName: state.imm.dataset });
        const t = await followTask(r.TaskId, $("c-cluster-task"));
        if (!t) return;
        if (t.Status !== "Succeeded") throw new ApiError(t.Code || t.Status, t.Message || `The clustering task ended ${t.Status}.`);
        resetPages();
        await loadClusterPage();
        showStatus(`Clustering done in ${state.imm.project}/${state.imm.dataset}.`);
      } finally {
        $("c-cluster-run").disabled = false;
      }
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

// --- operations (admin token) ----------------------------------------------------------

// One refresh loop at a time: a loop whose generation is stale stops after its refresh.
function stopOps() {
  clearTimeout(state.ops.timer);
  state.ops.timer = null;
  state.ops.gen = (state.ops.gen || 0) + 1;
}

function startOps() {
  stopOps();
  const gen = state.ops.gen;
  const tick = async () => {
    try {
      await refreshOps();
    } catch (e) {
      showError(e);
    }
    if (gen === state.ops.gen && !$("ops").hidden && loadAdmin()) state.ops.timer = setTimeout(tick, OPS_EVERY_MS);
  };
  return tick();
}

function uptime(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return `${h ? `${h} h ` : ""}${h || m ? `${m} min ` : ""}${s % 60} s`;
}

function sparkline(values, what = "requests") {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  const deltas = values.slice(1).map((v, i) => Math.max(0, v - values[i]));
  svg.setAttribute("aria-label", deltas.length ? `${what} per interval, oldest first: ${deltas.join(", ")}` : "no interval yet");
  const max = Math.max(1, ...deltas);
  const line = document.createElementNS(NS, "polyline");
  const step = deltas.length > 1 ? 100 / (deltas.length - 1) : 100;
  line.setAttribute("points", (deltas.length ? deltas : [0]).map((d, i) => `${(i * step).toFixed(1)},${(22 - (d / max) * 20).toFixed(1)}`).join(" "));
  svg.append(line);
  return svg;
}

async function refreshOps() {
  const [health, metrics, journal, faults] = await Promise.all([
    callAdmin("health"), callAdmin("metrics"), callAdmin("request-log/entries"), callAdmin("faults"),
  ]);
  renderFaults(faults.rules || []);
  $("h-status").textContent = health.status;
  $("h-version").textContent = health.version;
  $("h-schema").textContent = String(health.schema_version);
  $("h-uptime").textContent = uptime(health.uptime_seconds);
  const g = parseGauges(metrics);
  const n = (v) => (v === undefined ? "—" : String(v));
  $("h-store").textContent = g.cloudtwin_store_size_bytes === undefined ? "—" : `${(g.cloudtwin_store_size_bytes / 1048576).toFixed(1)} MiB`;
  $("h-flushes").textContent = `${n(g.cloudtwin_store_flushes_total)}${g.cloudtwin_store_last_flush_seconds !== undefined ? `, the last took ${ms(g.cloudtwin_store_last_flush_seconds)}` : ""}`;
  $("h-limited").textContent = n(g.cloudtwin_rate_limited_total);
  $("h-faults").textContent = n(g.cloudtwin_injected_faults_total);

  const now = Date.now();
  const actions = parseMetrics(metrics);
  const prev = state.ops.last;
  const seconds = prev ? (now - prev.at) / 1000 : 0;
  const rows = [...actions.values()].sort((a, b) => a.key.localeCompare(b.key)).map((a) => {
    const hist = state.ops.history.get(a.key) || [];
    hist.push(a.requests);
    if (hist.length > SPARK_POINTS + 1) hist.shift();
    state.ops.history.set(a.key, hist);
    const errKey = `${a.key} errors`;
    const errs = state.ops.history.get(errKey) || [];
    errs.push(a.requests - (a.codes.Success || 0));
    if (errs.length > SPARK_POINTS + 1) errs.shift();
    state.ops.history.set(errKey, errs);
    const before = prev && prev.actions.get(a.key);
    const rate = prev ? `${((a.requests - (before ? before.requests : 0)) / seconds).toFixed(2)}/s` : "—";
    const codes = Object.entries(a.codes).sort().map(([c, n]) => `${c} ${n}`).join(", ");
    const mean = a.count ? `${((a.sum / a.count) * 1000).toFixed(1)} ms` : "—";
    const tr = document.createElement("tr");
    tr.dataset.action = a.key;
    const pct = [0.5, 0.95, 0.99].map((q) => ms(quantile(a.buckets, q))).join(" / ");
    for (const [label, value] of [["Action", a.key], ["Requests", String(a.requests)], ["Codes", codes], ["Mean latency", mean], ["Latency p50 / p95 / p99", pct], ["Rate", rate], ["Trend", null], ["Error trend", null]]) {
      const td = document.createElement("td");
      td.dataset.label = label;
      if (label === "Trend") td.append(sparkline(hist));
      else if (label === "Error trend") td.append(sparkline(errs, "errors"));
      else td.textContent = value;
      tr.append(td);
    }
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 8;
    td.textContent = "No cloud API request yet.";
    tr.append(td);
    rows.push(tr);
  }
  $("metrics-table").tBodies[0].replaceChildren(...rows);
  state.ops.last = { at: now, actions };
  $("ops-updated").textContent = `Updated ${new Date(now).toLocaleTimeString()}; re-read every ${OPS_EVERY_MS / 1000} s${prev ? `, rates over the last ${seconds.toFixed(1)} s` : ""}.`;

  $("j-state").textContent = journal.path ? `The journal is on, writing to ${journal.path}.` : "The journal is off: turn it on to record requests (the list below shows those recorded since the server started).";
  state.ops.entries = journal.entries.map(journalSummary).reverse();
  renderJournal();
}

function renderJournal() {
  const f = $("j-filter").elements;
  const action = f.action.value.trim().toLowerCase(), code = f.code.value.trim().toLowerCase();
  const shown = state.ops.entries.filter((e) => e.action.toLowerCase().includes(action) && e.code.toLowerCase().includes(code));
  $("journal-table").tBodies[0].replaceChildren(...shown.map((e) => {
    const tr = document.createElement("tr");
    for (const [label, value] of [["Time", e.time], ["Action", e.action], ["Code", e.code], ["HTTP", String(e.status)], ["Request id", e.requestId]]) {
      const td = document.createElement("td");
      td.dataset.label = label;
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
  const all = state.ops.entries.length;
  $("j-count").textContent = `${shown.length} of ${all} journalled request${all === 1 ? "" : "s"} shown.`;
}

function renderFaults(rules) {
  $("f-count").textContent = rules.length ? `${rules.length} rule${rules.length === 1 ? "" : "s"}, tried in this order; the first that matches decides.` : "No fault rule: every request is answered normally.";
  $("faults-table").tBodies[0].replaceChildren(...rules.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.rule = r.id;
    const matches = [r.dialect || "any dialect", r.action || "any action", r.account ? `account ${r.account}` : "any account",
      r.probability !== null && r.probability !== undefined ? `probability ${r.probability}` : "always",
      r.count ? `at most ${r.count} times` : "forever"].join(", ");
    const does = [r.latency_ms ? `waits ${r.latency_ms} ms` : "",
      r.error ? `answers ${r.error.code}${r.error.message ? ` (${r.error.message})` : ""}${r.error.status ? `, HTTP ${r.error.status}` : ""}` : ""].filter(Boolean).join(", then ") || "nothing";
    for (const [label, value] of [["Rule", r.id], ["Matches", matches], ["Does", does], ["Fired", String(r.hits)], ["Remove", null]]) {
      const td = document.createElement("td");
      td.dataset.label = label;
      if (value === null) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = "Remove";
        b.setAttribute("aria-label", `Remove rule ${r.id}`);
        b.addEventListener("click", () => busy(null, async () => {
          await callAdmin(`faults/${encodeURIComponent(r.id)}`, { method: "DELETE" });
          renderFaults((await callAdmin("faults")).rules || []);
          showStatus(`Removed the fault rule ${r.id}.`);
        }));
        td.append(b);
      } else td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
  $("faults-clear").disabled = rules.length === 0;
}

async function loadSettings() {
  const s = await callAdmin("settings");
  const f = $("settings").elements;
  f.image_ready_after_ms.value = s.cvm.image_ready_after_ms;
  f.task_min_duration_ms.value = s.imm.task_min_duration_ms;
}

/** How many records a seed or import added (its `added` counts them by kind). */
const addedCount = (r) => Object.values((r && r.added) || {}).reduce((a, n) => a + n, 0);

function resetScope(f) {
  const account = f.account.value.trim(), part = f.part.value;
  const what = { "": "all cloud data", cvm: "the CVM images", imm: "the IMM projects, datasets and clusters", access: "the sub-users, policies and roles" }[part];
  return { body: { ...(account && { account }), ...(part && { part }) }, text: `${what} of ${account ? `account ${account}` : "every account"}` };
}

function wireOps() {
  $("settings").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    busy(ev.target, async () => {
      const r = await callAdmin("settings", { method: "PUT", body: { cvm: { image_ready_after_ms: Number(f.image_ready_after_ms.value) }, imm: { task_min_duration_ms: Number(f.task_min_duration_ms.value) } } });
      await loadSettings();
      showStatus(`Settings saved: images ready after ${r.cvm.image_ready_after_ms} ms, tasks run at least ${r.imm.task_min_duration_ms} ms.`);
    });
  });
  $("fault-add").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const rule = {};
    for (const k of ["dialect", "action", "account"]) if (f[k].value.trim()) rule[k] = f[k].value.trim();
    for (const k of ["probability", "count", "latency_ms"]) if (f[k].value !== "") rule[k] = Number(f[k].value);
    if (f.code.value.trim()) {
      rule.error = { code: f.code.value.trim() };
      if (f.message.value) rule.error.message = f.message.value;
      if (f.status.value !== "") rule.error.status = Number(f.status.value);
    }
    busy(ev.target, async () => {
      const r = await callAdmin("faults", { method: "POST", body: rule });
      renderFaults((await callAdmin("faults")).rules || []);
      ev.target.reset();
      showStatus(`Added the fault rule ${r.id}.`);
    });
  });
  $("faults-clear").addEventListener("click", () => busy(null, async () => {
    const r = await callAdmin("faults", { method: "DELETE" });
    renderFaults([]);
    showStatus(`Removed ${r.removed} fault rule${r.removed === 1 ? "" : "s"}.`);
  }));
  $("backup").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const dir = ev.target.elements.dir.value.trim();
    busy(ev.target, async () => {
      await callAdmin("backup", { method: "POST", body: { dir } });
      showStatus(`Backed up the store to ${dir} (open it with serve --data-dir).`);
    });
  });
  $("export").addEventListener("click", () => busy(null, async () => {
    const doc = await callAdmin("state");
    const text = JSON.stringify(doc);
    const blob = new Blob([text], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `cloudtwin-state-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
    a.textContent = `Download ${a.download}`;
    const n = (doc.cvm && doc.cvm.Images || []).length, c = (doc.imm && doc.imm.Clusters || []).length;
    $("export-done").replaceChildren(`Exported ${text.length} bytes: ${n} image${n === 1 ? "" : "s"}, ${c} cluster${c === 1 ? "" : "s"}. `, a);
    a.click();
  }));
  const importDialog = $("confirm-import");
  $("import").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    if (!f.file.files[0]) return;
    $("import-what").textContent = f.how.value === "state"
      ? `Replace everything with ${f.file.files[0].name}? Everything not in the document is deleted.`
      : `Merge ${f.file.files[0].name} into the state? What exists is kept.`;
    importDialog.showModal();
  });
  importDialog.addEventListener("close", () => {
    const f = $("import").elements;
    if (importDialog.returnValue !== "import") return showStatus("Nothing was imported.");
    const replace = f.how.value === "state";
    busy($("import"), async () => {
      let doc;
      try { doc = JSON.parse(await f.file.files[0].text()); } catch (e) { throw new ApiError("InvalidInput", `The file is not JSON: ${e.message}`); }
      const r = await callAdmin(replace ? "state" : "seed", { method: replace ? "PUT" : "POST", body: doc });
      const added = Object.entries(r.added || {}).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(", ") || "nothing";
      showStatus(`${replace ? "Replaced the state" : "Merged the document"}: added ${added}; skipped ${r.skipped} that existed.`);
    });
  });
  $("j-filter").addEventListener("input", renderJournal);
  $("j-filter").addEventListener("submit", (ev) => ev.preventDefault());
  $("j-on").addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy(ev.target, async () => {
      const r = await callAdmin("request-log", { method: "PUT", body: { path: ev.target.elements.path.value.trim() } });
      await refreshOps();
      showStatus(`The journal is on: ${r.path}.`);
    });
  });
  $("j-off").addEventListener("click", () => {
    busy($("j-on"), async () => {
      await callAdmin("request-log", { method: "PUT", body: { path: null } });
      await refreshOps();
      showStatus("The journal is off.");
    });
  });
  const dialog = $("confirm-reset");
  $("reset-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    $("reset-what").textContent = resetScope(ev.target.elements).text;
    dialog.showModal();
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "reset") return showStatus("Nothing was reset.");
    const { body } = resetScope($("reset-form").elements);
    busy(null, async () => {
      const r = await callAdmin("reset", { method: "POST", body });
      await refreshOps();
      showStatus(`Reset: ${r.changed_keys} keys removed in ${r.seconds.toFixed(3)} s.`);
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
    const cloud = $("sign-in-form").elements.cloud.value, ali = cloud === "aliyun", admin = cloud === "admin";
    $("secret-id-label").textContent = ali ? "AccessKey ID" : "SecretId";
    $("secret-key-label").textContent = admin ? "Admin token" : ali ? "AccessKey secret" : "SecretKey";
    $("secret-id-field").hidden = admin;
    $("token-field").hidden = admin;
    $("secret-id").required = !admin;
    $("secret-key").autocomplete = admin ? "off" : "current-password";
  };
  for (const r of $("sign-in-form").elements.cloud) r.addEventListener("change", labels);
  labels();

  $("sign-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    if (f.elements.cloud.value === "admin") {
      sessionStorage.setItem(ADMIN_KEY, f.elements["secret-key"].value);
      await busy(f, async () => {
        try {
          await callAdmin("request-log");
        } catch (e) {
          // Only a 401 (a wrong token) signs out; other failures leave the token to retry.
          if (e.code === "HTTP 401") sessionStorage.removeItem(ADMIN_KEY);
          throw e;
        }
      });
      f.elements["secret-key"].value = "";
      if (!loadAdmin()) return;
      clearMessages();
      showStatus("Signed in with the admin token.");
      history.replaceState(null, "", "#/ops");
      await route();
      $("ops-title").focus?.();
      return;
    }
    const ali = f.elements.cloud.value === "aliyun";
    const id = f.elements["secret-id"].value.trim(), secret = f.elements["secret-key"].value;
    const [key, check, refused] = ali
      ? [ALI_KEY, () => callImm("ListProjects", { MaxResults: 1 }), /^(InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature|InvalidSecurityToken)/]
      : [KEY, () => call("DescribeImages", { Limit: 1 }), /^AuthFailure/];
    const token = f.elements.token.value.trim();
    const pair = ali ? { accessKeyId: id, accessKeySecret: secret } : { secretId: id, secretKey: secret };
    if (token) pair[ali ? "securityToken" : "token"] = token;
    sessionStorage.setItem(key, JSON.stringify(pair));
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
    f.elements.token.value = "";
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
    sessionStorage.removeItem(ADMIN_KEY);
    stopOps();
    state.ops.last = null;
    state.ops.history.clear();
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

  $("create-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    busy(ev.target, async () => {
      // The account of the signed-in key, then the image through the seed route.
      const who = await call("GetCallerIdentity", {}, { service: "sts", version: "2018-08-13" });
      const image = { AccountId: who.AccountId, Region: state.region, ImageName: f.ImageName.value.trim(), ImageState: f.ImageState.value };
      if (f.ImageFamily.value.trim()) image.ImageFamily = f.ImageFamily.value.trim();
      if (f.ImageDescription.value) image.ImageDescription = f.ImageDescription.value;
      const r = await callAdmin("seed", { method: "POST", body: { format: "cloudtwin-state", version: 1, cvm: { Images: [image] } } });
      if (!addedCount(r)) throw new ApiError("InvalidImageName.Duplicate", `An image named ${image.ImageName} exists in ${state.region}: nothing was added.`);
      const found = await call("DescribeImages", { Filters: [{ Name: "image-name", Values: [image.ImageName] }], Limit: 100 });
      const img = found.ImageSet.find((i) => i.ImageName === image.ImageName);
      if (!img) throw new ApiError("NotFound", `The image ${image.ImageName} was added but is not visible to this key.`);
      if (f.after.value !== "" && image.ImageState !== "NORMAL") {
        await callAdmin(`cvm/images/${encodeURIComponent(img.ImageId)}/state`, { method: "POST", body: { state: image.ImageState, then: "NORMAL", after_ms: Math.round(Number(f.after.value) * 1000) } });
      }
      ev.target.reset();
      history.pushState(null, "", `#/image/${encodeURIComponent(img.ImageId)}`);
      await route();
      showStatus(`Created ${img.ImageId} (${image.ImageState}).`);
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
  wireOps();
  for (const h of ["images-title", "image-title", "clusters-title", "cluster-title", "ops-title"]) $(h).tabIndex = -1;
  window.addEventListener("hashchange", () => {
    clearMessages();
    route();
  });
  route();
}

if (typeof document !== "undefined") init();
