// The web console (/console/) in Debian's headless Chromium, driven by playwright-core, against
// the real cloudtwin binary. Images with a Tencent key pair: sign-in (also by keyboard only),
// the list with filters and paging, an image's page, rename (persisted, checked by a Node-side
// signed call), the duplicate-name refusal, a read-only sub-user's and a read-only role
// session's refusals (STS token), share, delete with a confirmation, live state, the family
// lookup, an image created through state control, no horizontal scroll at 1280x800 and
// 390x844. IMM face clusters with an Alibaba Cloud AccessKey pair: projects, datasets, sort,
// order and NextToken paging, a cluster's page, rename and relabel, the MetaLockVersion
// conflict (from Node and from a second browser context) and its reload, keyboard-only
// navigation, a cluster's faces, choosing the cover, label and time filters, merging, a
// clustering task followed to its end, read-only RAM user and role refusals, and the layout at
// both sizes. Operations with the admin token: a wrong token's 401, keyboard-only sign-in,
// health, live request counts, percentiles and the moving chart, the journal and its filter,
// settings, fault rules, backup, export/import, the layout at both sizes, and reset (cancel, one
// account's part, everything).
//
// Run: CLOUDTWIN_BIN=target/debug/cloudtwin node --test tests/console/run.mjs (tests/run.sh
// does, after `npm ci` here). CHROMIUM overrides /usr/bin/chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = process.env.CLOUDTWIN_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, "target"), "debug", "cloudtwin");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// CONSOLE_SCREENSHOTS=docs/console saves the pages' screenshots there (how docs/console/*.png
// were made); unset, none are taken.
const SHOTS = process.env.CONSOLE_SCREENSHOTS;

const ROOT_KEY = { id: "AKIDCONSOLE0000000000000000000000001", key: "consoleSecretKey0000000000000001" };
const READER_KEY = { id: "AKIDCONSOLEREADER00000000000000000001", key: "consoleReaderKey0000000000000001" };
const OTHER_ACCOUNT = "100000000702";
const ALI_KEY = { id: "LTAICONSOLE000000001", key: "consoleAliSecret0000000000000001" };
const ALI_READER = { id: "LTAICONSOLEREADER001", key: "consoleAliReader0000000000000001" };
const IMM_REGION = "cn-hangzhou";
const TRAVELLER = 3; // pending faces in album/trips with one IdentityHint, for a clustering task
const CLUSTERS = 12; // "Person 01".."Person 12"; Person NN has NN faces on NN images
const REGION = "ap-guangzhou";
const IMAGES = 25;
const PREFIX = "console-img";

let server; // { proc, base, tmp }
let browser;

function configText(dataDir) {
  return `listen = "127.0.0.1:0"
data_dir = "${dataDir}"
admin_token = "console-suite-admin"
[[accounts]]
id = "100000000701"
name = "console"
[accounts.tencent]
app_id = 1300000701
secret_id = "${ROOT_KEY.id}"
secret_key = "${ROOT_KEY.key}"
[accounts.aliyun]
access_key_id = "${ALI_KEY.id}"
access_key_secret = "${ALI_KEY.key}"
[[accounts.cam_users]]
name = "reader"
secret_id = "${READER_KEY.id}"
secret_key = "${READER_KEY.key}"
policies = ["QcloudCVMReadOnlyAccess"]
[[accounts.ram_users]]
name = "imm-reader"
access_key_id = "${ALI_READER.id}"
access_key_secret = "${ALI_READER.key}"
policies = ["AliyunIMMReadOnlyAccess"]
[[accounts.cam_roles]]
name = "viewer"
trust = '{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/100000000701:root"]}}]}'
policies = ["QcloudCVMReadOnlyAccess"]
[[accounts.ram_roles]]
name = "imm-viewer"
trust = '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::100000000701:root"]}}],"Version":"1"}'
policies = ["AliyunIMMReadOnlyAccess"]
[[accounts]]
id = "${OTHER_ACCOUNT}"
name = "other"
[accounts.tencent]
app_id = 1300000702
secret_id = "AKIDCONSOLE0000000000000000000000002"
secret_key = "consoleSecretKey0000000000000002"
[cvm]
image_ready_after_ms = 0
[rate_limit]
enabled = false
`;
}

// An independent TC3-HMAC-SHA256 signer (node:crypto), to set up and to check what the
// console did through the API itself.
async function api(action, params, key = ROOT_KEY, { service = "cvm", version = "2017-03-12" } = {}) {
  const body = JSON.stringify(params);
  const host = server.base.replace(/^http:\/\//, "");
  const ts = Math.floor(Date.now() / 1000);
  const date = new Date(ts * 1000).toISOString().slice(0, 10);
  const ct = "application/json; charset=utf-8";
  const sha = (s) => createHash("sha256").update(s).digest("hex");
  const mac = (k, s) => createHmac("sha256", k).update(s).digest();
  const canonical = `POST\n/\n\ncontent-type:${ct}\nhost:${host}\n\ncontent-type;host\n${sha(body)}`;
  const scope = `${date}/${service}/tc3_request`;
  const sts = `TC3-HMAC-SHA256\n${ts}\n${scope}\n${sha(canonical)}`;
  const sig = createHmac("sha256", mac(mac(mac("TC3" + key.key, date), service), "tc3_request")).update(sts).digest("hex");
  const res = await fetch(server.base + "/", {
    method: "POST",
    headers: {
      Authorization: `TC3-HMAC-SHA256 Credential=${key.id}/${scope}, SignedHeaders=content-type;host, Signature=${sig}`,
      "Content-Type": ct,
      "X-TC-Action": action,
      "X-TC-Version": version,
      "X-TC-Timestamp": String(ts),
      "X-TC-Region": REGION,
    },
    body,
  });
  const r = (await res.json()).Response;
  if (r.Error) throw new Error(`${action}: ${r.Error.Code}: ${r.Error.Message}`);
  return r;
}

// An independent ACS3-HMAC-SHA256 signer (node:crypto) for IMM 2020-09-30, parameters in the
// query of POST /, as the Tea SDK sends them.
async function imm(action, params, { version = "2020-09-30", key = ALI_KEY } = {}) {
  const all = { RegionId: IMM_REGION, ...params };
  const pct = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  const query = Object.keys(all).sort().map((k) => `${pct(k)}=${pct(String(all[k]))}`).join("&");
  const sha = (s) => createHash("sha256").update(s).digest("hex");
  const h = {
    host: server.base.replace(/^http:\/\//, ""),
    "x-acs-action": action,
    "x-acs-content-sha256": sha(""),
    "x-acs-date": new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    "x-acs-signature-nonce": createHash("md5").update(String(Math.random())).digest("hex"),
    "x-acs-version": version,
  };
  const names = Object.keys(h).sort();
  const canonical = `POST\n/\n${query}\n${names.map((n) => `${n}:${h[n]}\n`).join("")}\n${names.join(";")}\n${sha("")}`;
  const sig = createHmac("sha256", key.key).update(`ACS3-HMAC-SHA256\n${sha(canonical)}`).digest("hex");
  const headers = { Accept: "application/json", Authorization: `ACS3-HMAC-SHA256 Credential=${key.id},SignedHeaders=${names.join(";")},Signature=${sig}` };
  for (const n of names) if (n !== "host") headers[n] = h[n];
  const res = await fetch(`${server.base}/?${query}`, { method: "POST", headers });
  const json = await res.json();
  if (!res.ok) throw new Error(`${action}: ${json.Code}: ${json.Message}`);
  return json;
}

const person = (i) => `Person ${String(i).padStart(2, "0")}`;
const clusterId = (i) => `Cluster-console-${String(i).padStart(2, "0")}`;
const getCluster = async (i) => (await imm("GetFigureCluster", { ProjectName: "album", DatasetName: "family", ObjectId: clusterId(i) })).FigureCluster;

// Projects, datasets and clusters through the admin seed route (a merge: the images stay).
function immFixture() {
  const at = { AccountId: "100000000701", Region: IMM_REGION };
  const files = [];
  for (let i = 1; i <= CLUSTERS; i++) {
    for (let j = 1; j <= i; j++) {
      files.push({ ...at, ProjectName: "album", DatasetName: "family", URI: `oss://photos/p${i}-${j}.jpg`,
        Figures: [{ FigureId: `f-${i}-${j}`, FigureClusterId: clusterId(i), Age: 20 + i, Attributes: { Boundary: { Left: j, Top: 2 * j, Width: 100, Height: 120 } } }] });
    }
  }
  for (let j = 1; j <= TRAVELLER; j++) {
    files.push({ ...at, ProjectName: "album", DatasetName: "trips", URI: `oss://photos/trip-${j}.jpg`,
      Figures: [{ FigureId: `t-${j}`, IdentityHint: "traveller", Age: 30 + j, Attributes: { Boundary: { Left: 10 * j, Top: 20, Width: 64, Height: 80 } } }] });
  }
  const clusters = [];
  for (let i = 1; i <= CLUSTERS; i++) {
    clusters.push({ ...at, ProjectName: "album", DatasetName: "family", ObjectId: clusterId(i), Name: person(i), CustomLabels: { n: String(i) } });
  }
  return {
    format: "cloudtwin-state", version: 1,
    imm: {
      Projects: [{ ...at, ProjectName: "album" }, { ...at, ProjectName: "work" }],
      Datasets: [{ ...at, ProjectName: "album", DatasetName: "family" }, { ...at, ProjectName: "album", DatasetName: "trips" },
        { ...at, ProjectName: "work", DatasetName: "team" }],
      Files: files, Clusters: clusters, Hints: [], Tasks: [],
    },
  };
}

const name = (i) => `${PREFIX}-${String(i).padStart(2, "0")}`;
const ids = {};

before(async () => {
  const tmp = mkdtempSync(join(tmpdir(), "cloudtwin-console-"));
  const config = join(tmp, "config.toml");
  writeFileSync(config, configText(join(tmp, "unused-data")));
  const proc = spawn(BIN, ["serve", "--ephemeral", "--config", config], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, CLOUDTWIN_LOG: process.env.CLOUDTWIN_LOG || "warn" },
  });
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("no listening line within 30 s")), 30000);
    proc.on("error", fail);
    proc.on("exit", (code) => fail(new Error(`cloudtwin exited with ${code} before listening`)));
    createInterface({ input: proc.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const m = /^cloudtwin listening on (http:\/\/\S+)/.exec(line);
      m ? ok(m[1]) : fail(new Error(`unexpected first line ${JSON.stringify(line)}`));
    });
  });
  proc.stdout.resume();
  server = { proc, base, tmp };
  for (let i = 1; i <= IMAGES; i++) {
    const r = await api("CreateImage", { ImageName: name(i), InstanceId: "ins-abcdefgh" });
    ids[name(i)] = r.ImageId;
  }
  const seeded = await fetch(`${server.base}/_cloudtwin/seed`, {
    method: "POST",
    headers: { Authorization: "Bearer console-suite-admin", "Content-Type": "application/json" },
    body: JSON.stringify(immFixture()),
  });
  assert.equal(seeded.status, 200, await seeded.text());
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const { proc, tmp } = server;
    if (proc.exitCode === null) {
      const exited = new Promise((ok) => proc.once("exit", ok));
      process.kill(proc.pid, "SIGTERM");
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});

async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, timezoneId: "UTC" });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.problems = problems;
  return page;
}

async function signIn(page, key = ROOT_KEY) {
  await page.goto(server.base + "/console/");
  await page.getByLabel("SecretId").fill(key.id);
  await page.getByLabel("SecretKey").fill(key.key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Images" }).waitFor();
}

async function filterByName(page, text) {
  await page.getByLabel("Name contains").fill(text);
  await page.getByRole("button", { name: "Search" }).click();
}

const alertText = (page) => page.getByRole("alert").textContent();
const rows = (page) => page.locator("#image-table tbody tr");

async function shot(page, file) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, file), fullPage: false });
}

async function noHorizontalScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `page is ${scroll}px wide in a ${client}px viewport`);
}

// A control is shown, and wholly inside the viewport's width once scrolled to.
async function visibleControl(page, locator) {
  await locator.scrollIntoViewIfNeeded();
  assert.ok(await locator.isVisible());
  const box = await locator.boundingBox();
  const width = page.viewportSize().width;
  assert.ok(box && box.x >= 0 && box.x + box.width <= width + 0.5, `control at ${JSON.stringify(box)} in a ${width}px viewport`);
}

test("/console redirects to /console/, which is signed-in nowhere until a key is typed", async () => {
  const page = await newPage();
  await page.goto(server.base + "/console");
  assert.equal(new URL(page.url()).pathname, "/console/");
  assert.ok(await page.getByRole("heading", { name: "Sign in" }).isVisible());
  assert.equal(await page.getByRole("heading", { name: "Images" }).isVisible(), false);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("keyboard-only sign-in shows the list", async () => {
  const page = await newPage();
  await page.goto(server.base + "/console/");
  // Tab from the top of the page to the first control of the form, then type and submit.
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.id === "secret-id")) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), "secret-id");
  await page.keyboard.type(ROOT_KEY.id);
  await page.keyboard.press("Tab");
  await page.keyboard.type(ROOT_KEY.key);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Images" }).waitFor();
  await page.locator("#count").filter({ hasText: `images in ${REGION}; showing 1–20.` }).waitFor();
  assert.equal(await rows(page).count(), 20);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("cloudtwin.console.tencent") !== null), true);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a wrong key is refused with the API's code and stays signed out", async () => {
  const page = await newPage();
  await page.goto(server.base + "/console/");
  await page.getByLabel("SecretId").fill(ROOT_KEY.id);
  await page.getByLabel("SecretKey").fill("not-the-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "AuthFailure" }).waitFor();
  assert.match(await alertText(page), /AuthFailure\.SignatureFailure/);
  assert.ok(await page.getByRole("heading", { name: "Sign in" }).isVisible());
  await page.context().close();
});

test("filter by name, and page through the results", async () => {
  const page = await newPage();
  await signIn(page);
  await filterByName(page, name(7));
  await page.locator("#count").filter({ hasText: "1 image in" }).waitFor();
  assert.equal(await rows(page).count(), 1);
  assert.equal(await rows(page).first().locator("a").textContent(), name(7));

  await page.getByLabel("Per page").selectOption("10");
  await filterByName(page, PREFIX);
  await page.locator("#count").filter({ hasText: `${IMAGES} images in ${REGION}; showing 1–10.` }).waitFor();
  assert.equal(await rows(page).count(), 10);
  assert.equal(await page.locator("#page").textContent(), "Page 1 of 3");
  assert.ok(await page.getByRole("button", { name: "Previous page" }).isDisabled());
  await page.getByRole("button", { name: "Next page" }).click();
  await page.locator("#count").filter({ hasText: "showing 11–20." }).waitFor();
  await page.getByRole("button", { name: "Next page" }).click();
  await page.locator("#count").filter({ hasText: "showing 21–25." }).waitFor();
  assert.equal(await rows(page).count(), 5);
  assert.ok(await page.getByRole("button", { name: "Next page" }).isDisabled());
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.locator("#count").filter({ hasText: "showing 11–20." }).waitFor();

  await page.getByLabel("State", { exact: true }).selectOption("CREATEFAILED");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator("#count").filter({ hasText: "0 images" }).waitFor();
  assert.equal(await rows(page).count(), 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("open an image, rename it, and the new name persists", async () => {
  const page = await newPage();
  await signIn(page);
  await filterByName(page, name(3));
  await page.getByRole("link", { name: name(3), exact: true }).click();
  const id = ids[name(3)];
  await page.getByRole("heading", { name: `Image ${name(3)} (${id})` }).waitFor();
  for (const attr of ["ImageId", "ImageState", "ImageType", "CreatedTime", "Architecture", "Platform", "ImageSource", "SnapshotSet", "ImageFamily", "ImageDeprecated"]) {
    assert.ok(await page.locator(`#attr-${attr}`).count(), `attribute ${attr} is shown`);
  }
  assert.equal(await page.locator("#attr-ImageState").textContent(), "NORMAL");

  await page.getByLabel("Name", { exact: true }).fill("console-renamed");
  await page.getByLabel("Description", { exact: true }).fill("renamed in a browser");
  await page.getByLabel("Family", { exact: true }).fill("console-family");
  await page.getByLabel("Deprecated").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").filter({ hasText: `Saved ${id}.` }).waitFor();
  await page.getByRole("heading", { name: `Image console-renamed (${id})` }).waitFor();

  const r = await api("DescribeImages", { ImageIds: [id] });
  assert.equal(r.ImageSet[0].ImageName, "console-renamed");
  assert.equal(r.ImageSet[0].ImageDescription, "renamed in a browser");
  assert.equal(r.ImageSet[0].ImageFamily, "console-family");
  assert.equal(r.ImageSet[0].ImageDeprecated, true);

  await page.reload();
  await page.getByRole("heading", { name: `Image console-renamed (${id})` }).waitFor();
  assert.equal(await page.locator("#attr-ImageDeprecated").textContent(), "yes");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a duplicate name shows InvalidImageName.Duplicate", async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${server.base}/console/#/image/${ids[name(4)]}`);
  await page.getByRole("heading", { name: `Image ${name(4)}` }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill(name(5));
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("alert").filter({ hasText: "InvalidImageName.Duplicate" }).waitFor();
  assert.match(await alertText(page), /^InvalidImageName\.Duplicate: .+\(RequestId .+\)$/);
  assert.equal((await api("DescribeImages", { ImageIds: [ids[name(4)]] })).ImageSet[0].ImageName, name(4));
  await page.context().close();
});

test("a read-only sub-user sees the list and is refused a rename", async () => {
  const page = await newPage();
  await signIn(page, READER_KEY);
  await filterByName(page, name(6));
  await page.getByRole("link", { name: name(6), exact: true }).click();
  await page.getByRole("heading", { name: `Image ${name(6)}` }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("reader-was-here");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("alert").filter({ hasText: "UnauthorizedOperation" }).waitFor();
  assert.match(await alertText(page), /^UnauthorizedOperation: /);
  assert.equal((await api("DescribeImages", { ImageIds: [ids[name(6)]] })).ImageSet[0].ImageName, name(6));
  await page.context().close();
});

test("temporary keys with their security token: a read-only role session lists, and is refused a rename", async () => {
  const r = await api("AssumeRole", { RoleArn: "qcs::cam::uin/100000000701:roleName/viewer", RoleSessionName: "console" }, ROOT_KEY, { service: "sts", version: "2018-08-13" });
  const { TmpSecretId, TmpSecretKey, Token } = r.Credentials;
  const page = await newPage();
  await page.goto(server.base + "/console/");
  // Without the token the temporary pair is not a key at all.
  await page.getByLabel("SecretId").fill(TmpSecretId);
  await page.getByLabel("SecretKey").fill(TmpSecretKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "AuthFailure" }).waitFor();
  assert.ok(await page.getByRole("heading", { name: "Sign in" }).isVisible());
  await page.getByLabel("SecretKey").fill(TmpSecretKey);
  await page.getByLabel("Security token (temporary STS keys only; else empty)").fill(Token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Images" }).waitFor();
  await filterByName(page, name(11));
  await page.getByRole("link", { name: name(11), exact: true }).click();
  await page.getByRole("heading", { name: `Image ${name(11)}` }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("session-rename");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("alert").filter({ hasText: "UnauthorizedOperation" }).waitFor();
  assert.equal((await api("DescribeImages", { ImageIds: [ids[name(11)]] })).ImageSet[0].ImageName, name(11));
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("share and unshare an image", async () => {
  const page = await newPage();
  await signIn(page);
  await page.goto(`${server.base}/console/#/image/${ids[name(8)]}`);
  await page.locator("#shares").filter({ hasText: "Not shared." }).waitFor();
  await page.getByLabel("Account ids (comma-separated)").fill(OTHER_ACCOUNT);
  await page.getByRole("button", { name: "Share", exact: true }).click();
  await page.locator("#shares").filter({ hasText: `Shared with ${OTHER_ACCOUNT}.` }).waitFor();
  await page.getByRole("button", { name: "Unshare" }).click();
  await page.locator("#shares").filter({ hasText: "Not shared." }).waitFor();
  await page.context().close();
});

test("delete asks for a confirmation first", async () => {
  const page = await newPage();
  await signIn(page);
  const id = ids[name(9)];
  await page.goto(`${server.base}/console/#/image/${id}`);
  await page.getByRole("heading", { name: `Image ${name(9)}` }).waitFor();
  await page.getByRole("button", { name: "Delete image…" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  assert.equal((await api("DescribeImages", { ImageIds: [id] })).TotalCount, 1);
  await page.getByRole("button", { name: "Delete image…" }).click();
  assert.match(await page.getByRole("dialog").textContent(), new RegExp(`Delete ${name(9)} \\(${id}\\)\\?`));
  await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("status").filter({ hasText: `Deleted ${id}.` }).waitFor();
  await page.getByRole("heading", { name: "Images" }).waitFor();
  assert.equal((await api("DescribeImages", { ImageIds: [id] })).TotalCount, 0);
  await page.context().close();
});

test("an image's page follows it live from CREATING to NORMAL", async () => {
  const page = await newPage();
  await signIn(page);
  const id = ids[name(10)];
  const res = await fetch(`${server.base}/_cloudtwin/cvm/images/${id}/state`, {
    method: "POST",
    headers: { Authorization: "Bearer console-suite-admin", "Content-Type": "application/json" },
    body: JSON.stringify({ state: "CREATING", then: "NORMAL", after_ms: 4000 }),
  });
  assert.equal(res.status, 200, await res.text());
  await page.goto(`${server.base}/console/#/image/${id}`);
  await page.locator("#attr-ImageState").filter({ hasText: "CREATING" }).waitFor();
  assert.match(await page.locator("#attr-SyncPercent").textContent(), /^\d+$/);
  // No reload: the page re-reads the image by itself.
  await page.locator("#attr-ImageState").filter({ hasText: "NORMAL" }).waitFor({ timeout: 10000 });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a family is looked up as DescribeImageFromFamily does: its newest usable image", async () => {
  await api("ModifyImageAttribute", { ImageId: ids[name(5)], ImageFamily: "console-fam-b" });
  const page = await newPage();
  await signIn(page);
  await page.getByLabel("Family: its newest usable image").fill("console-fam-b");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator("#count").filter({ hasText: "The newest usable image of family console-fam-b" }).waitFor();
  assert.equal(await rows(page).count(), 1);
  assert.equal(await rows(page).first().locator("a").textContent(), name(5));
  // The rename test made console-family's only image deprecated: none is usable.
  await page.getByLabel("Family: its newest usable image").fill("console-family");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator("#count").filter({ hasText: "No usable image of family console-family" }).waitFor();
  assert.equal(await rows(page).count(), 0);
  assert.ok(await page.getByRole("button", { name: "Next page" }).isDisabled());
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("with the admin token too, create an image through state control and watch it become NORMAL", async () => {
  const page = await newPage();
  await signIn(page);
  assert.ok(await page.locator("#create").isHidden(), "no state control without the admin token");
  await page.getByRole("link", { name: "Add a key" }).click();
  await page.getByLabel("cloudtwin admin token").check();
  await page.getByLabel("Admin token", { exact: true }).fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Operations" }).waitFor();
  await page.getByRole("link", { name: "Images" }).click();
  await page.getByRole("heading", { name: "Create an image (state control)" }).waitFor();
  await page.getByLabel("New image's name").fill("console-created");
  await page.getByLabel("New image's family").fill("made-here");
  await page.getByLabel("Initial state").selectOption("CREATING");
  // A delay far beyond the test: the image stays CREATING until the test ends it.
  await page.getByLabel("Then NORMAL after (seconds; empty: stays in its state)").fill("600");
  await page.getByRole("button", { name: "Create the image" }).click();
  await page.getByRole("status").filter({ hasText: /^Created img-\w+ \(CREATING\)\.$/ }).waitFor();
  const id = /^Created (img-\w+)/.exec(await page.getByRole("status").textContent())[1];
  await page.getByRole("heading", { name: `Image console-created (${id})` }).waitFor();
  assert.equal(await page.locator("#attr-ImageState").textContent(), "CREATING");
  assert.equal(await page.locator("#attr-ImageFamily").textContent(), "made-here");
  const img = (await api("DescribeImages", { ImageIds: [id] })).ImageSet[0];
  assert.deepEqual([img.ImageName, img.ImageState, img.ImageFamily, img.ImageType], ["console-created", "CREATING", "made-here", "PRIVATE_IMAGE"]);
  const res = await fetch(`${server.base}/_cloudtwin/cvm/images/${id}/state`, {
    method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" }, body: JSON.stringify({ state: "NORMAL" }),
  });
  assert.equal(res.status, 200);
  await page.locator("#attr-ImageState").filter({ hasText: "NORMAL" }).waitFor({ timeout: 10000 });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  test(`no horizontal scroll at ${viewport.width}x${viewport.height}`, async () => {
    const page = await newPage(viewport);
    const size = `${viewport.width}x${viewport.height}`;
    await page.goto(server.base + "/console/");
    await noHorizontalScroll(page);
    await shot(page, `sign-in-${size}.png`);
    await signIn(page);
    await filterByName(page, PREFIX);
    await page.locator("#count").filter({ hasText: "images in" }).waitFor();
    await noHorizontalScroll(page);
    await shot(page, `images-${size}.png`);
    await filterByName(page, name(1));
    await page.getByRole("link", { name: name(1), exact: true }).click();
    await page.getByRole("heading", { name: `Image ${name(1)}` }).waitFor();
    await noHorizontalScroll(page);
    await shot(page, `image-${size}.png`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

// --- face clusters (IMM), signed in with an Alibaba Cloud AccessKey pair ------------------

async function signInAli(page, key = ALI_KEY) {
  await page.goto(server.base + "/console/");
  await page.getByLabel("Alibaba Cloud").check();
  await page.getByLabel("AccessKey ID").fill(key.id);
  await page.getByLabel("AccessKey secret").fill(key.key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Face clusters" }).waitFor();
}

// IMM refusals are HTTP 4xx, which Chromium logs as a failed resource: the only error allowed.
const unexpected = (page) => page.problems.filter((p) => !/the server responded with a status of 4\d\d/.test(p));
const clusterLinks = (page) => page.locator("#cluster-list li a");
const clusterNames = (page) => clusterLinks(page).allTextContents();

async function showClusters(page, { sort, order, size }) {
  if (sort) await page.getByLabel("Sort by").selectOption(sort);
  if (order) await page.getByLabel("Order").selectOption(order);
  if (size) await page.getByLabel("Page size").selectOption(String(size));
  await page.getByRole("button", { name: "Show clusters" }).click();
}

test("Alibaba sign-in lists projects, datasets and clusters; a wrong secret is refused", async () => {
  const page = await newPage();
  await page.goto(server.base + "/console/");
  await page.getByLabel("Alibaba Cloud").check();
  await page.getByLabel("AccessKey ID").fill(ALI_KEY.id);
  await page.getByLabel("AccessKey secret").fill("not-the-secret");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "SignatureDoesNotMatch" }).waitFor();
  assert.match(await alertText(page), /^SignatureDoesNotMatch: [^]+\(RequestId [^)]+\)$/);
  assert.ok(await page.getByRole("heading", { name: "Sign in" }).isVisible());
  assert.equal(await page.evaluate(() => sessionStorage.getItem("cloudtwin.console.aliyun")), null);

  await signInAli(page);
  assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem("cloudtwin.console.aliyun")).accessKeyId), ALI_KEY.id);
  assert.equal(await page.getByLabel("IMM region").inputValue(), IMM_REGION);
  await page.locator("#c-count").filter({ hasText: `${CLUSTERS} clusters in album/family` }).waitFor();
  const projects = await page.locator("#c-project option").allTextContents();
  assert.deepEqual(projects.sort(), ["album", "work"]);
  assert.deepEqual((await page.locator("#c-dataset option").allTextContents()).sort(), ["family", "trips"]);
  // The default order: most images first.
  assert.equal((await clusterNames(page))[0], person(CLUSTERS));
  await page.getByLabel("Dataset").selectOption("trips");
  await page.locator("#c-count").filter({ hasText: "0 clusters in album/trips" }).waitFor();
  await page.getByLabel("Project").selectOption("work");
  await page.locator("#c-count").filter({ hasText: "0 clusters in work/team" }).waitFor();
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("clusters sort by name and face count, both orders, and page with NextToken", async () => {
  const page = await newPage();
  await signInAli(page);
  await page.getByLabel("Project").selectOption("album");
  await page.getByLabel("Dataset").selectOption("family");
  await showClusters(page, { sort: "Name", order: "asc", size: 5 });
  await page.locator("#c-count").filter({ hasText: "showing 1–5." }).waitFor();
  assert.deepEqual(await clusterNames(page), [1, 2, 3, 4, 5].map(person));
  assert.equal(await page.locator("#c-page").textContent(), "Page 1 of 3");
  assert.ok(await page.getByRole("button", { name: "Previous clusters" }).isDisabled());
  await page.getByRole("button", { name: "Next clusters" }).click();
  await page.locator("#c-count").filter({ hasText: "showing 6–10." }).waitFor();
  assert.deepEqual(await clusterNames(page), [6, 7, 8, 9, 10].map(person));
  await page.getByRole("button", { name: "Next clusters" }).click();
  await page.locator("#c-count").filter({ hasText: "showing 11–12." }).waitFor();
  assert.ok(await page.getByRole("button", { name: "Next clusters" }).isDisabled());
  await page.getByRole("button", { name: "Previous clusters" }).click();
  await page.locator("#c-count").filter({ hasText: "showing 6–10." }).waitFor();
  assert.deepEqual(await clusterNames(page), [6, 7, 8, 9, 10].map(person));

  await showClusters(page, { sort: "Name", order: "desc" });
  await page.locator("#c-count").filter({ hasText: "showing 1–5." }).waitFor();
  assert.deepEqual(await clusterNames(page), [12, 11, 10, 9, 8].map(person));
  await showClusters(page, { sort: "FaceCount", order: "asc" });
  await page.locator("#cluster-list li").first().filter({ hasText: "1 image, 1 face" }).waitFor();
  assert.deepEqual(await clusterNames(page), [1, 2, 3, 4, 5].map(person));
  await showClusters(page, { sort: "FaceCount", order: "desc" });
  await page.locator("#cluster-list li").first().filter({ hasText: "12 images, 12 faces" }).waitFor();
  assert.equal((await clusterNames(page))[0], person(12));
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("open a cluster, rename and relabel it, and the change persists", async () => {
  const page = await newPage();
  await signInAli(page);
  await page.getByRole("link", { name: person(3), exact: true }).click();
  await page.getByRole("heading", { name: `Cluster ${person(3)}` }).waitFor();
  assert.equal(await page.locator("#cattr-ObjectId").textContent(), clusterId(3));
  assert.equal(await page.locator("#cattr-ImageCount").textContent(), "3");
  assert.equal(await page.locator("#cattr-FaceCount").textContent(), "3");
  assert.match(await page.locator("#cattr-Cover").textContent(), /^oss:\/\/photos\/p3-\d\.jpg \(face f-3-\d\)$/);
  assert.match(await page.locator("#cattr-CustomLabels").textContent(), /"n": "3"/);
  const before = (await imm("GetFigureCluster", { ProjectName: "album", DatasetName: "family", ObjectId: clusterId(3) })).FigureCluster;
  assert.equal(await page.locator("#cattr-MetaLockVersion").textContent(), String(before.MetaLockVersion));

  await page.getByLabel("Cluster name").fill("Grandma 奶奶");
  await page.getByLabel("Custom labels (JSON object)").fill('{"role": "grandparent"}');
  await page.getByRole("button", { name: "Save cluster" }).click();
  await page.getByRole("status").filter({ hasText: `Saved ${clusterId(3)}.` }).waitFor();
  await page.getByRole("heading", { name: "Cluster Grandma 奶奶" }).waitFor();

  const after = (await imm("GetFigureCluster", { ProjectName: "album", DatasetName: "family", ObjectId: clusterId(3) })).FigureCluster;
  assert.equal(after.Name, "Grandma 奶奶");
  assert.deepEqual(after.CustomLabels, { role: "grandparent" });
  assert.equal(after.MetaLockVersion, before.MetaLockVersion + 1);
  assert.equal(await page.locator("#cattr-MetaLockVersion").textContent(), String(after.MetaLockVersion));

  await page.reload();
  await page.getByRole("heading", { name: "Cluster Grandma 奶奶" }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a concurrent change shows the lock mismatch and offers a reload, never overwriting", async () => {
  const page = await newPage();
  await signInAli(page);
  const id = clusterId(4);
  await page.goto(`${server.base}/console/#/imm/cluster/${IMM_REGION}/album/family/${id}`);
  await page.getByRole("heading", { name: `Cluster ${person(4)}` }).waitFor();
  const read = (await imm("GetFigureCluster", { ProjectName: "album", DatasetName: "family", ObjectId: id })).FigureCluster;
  // Someone else renames it after the page read it.
  await imm("UpdateFigureCluster", { ProjectName: "album", DatasetName: "family",
    FigureCluster: JSON.stringify({ ObjectId: id, Name: "Changed elsewhere", MetaLockVersion: read.MetaLockVersion }) });

  await page.getByLabel("Cluster name").fill("From the browser");
  await page.getByRole("button", { name: "Save cluster" }).click();
  await page.getByRole("alert").filter({ hasText: "MetaLockVersion" }).waitFor();
  assert.match(await alertText(page), /^InvalidArgument: MetaLockVersion \d+ does not match/);
  const now = (await imm("GetFigureCluster", { ProjectName: "album", DatasetName: "family", ObjectId: id })).FigureCluster;
  assert.equal(now.Name, "Changed elsewhere");
  assert.equal(now.MetaLockVersion, read.MetaLockVersion + 1);

  await page.getByRole("button", { name: "Reload the cluster" }).click();
  await page.getByRole("heading", { name: "Cluster Changed elsewhere" }).waitFor();
  assert.equal(await page.getByLabel("Cluster name").inputValue(), "Changed elsewhere");
  assert.equal(await page.locator("#cattr-MetaLockVersion").textContent(), String(now.MetaLockVersion));
  assert.ok(await page.locator("#conflict").isHidden());
  await page.getByLabel("Cluster name").fill("From the browser");
  await page.getByRole("button", { name: "Save cluster" }).click();
  await page.getByRole("status").filter({ hasText: `Saved ${id}.` }).waitFor();
  assert.equal((await imm("GetFigureCluster", { ProjectName: "album", DatasetName: "family", ObjectId: id })).FigureCluster.Name, "From the browser");
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("a MetaLockVersion conflict between two browser contexts: the second save is refused, reload resolves it", async () => {
  const id = clusterId(10), url = `${server.base}/console/#/imm/cluster/${IMM_REGION}/album/family/${id}`;
  const [a, b] = [await newPage(), await newPage()];
  for (const page of [a, b]) {
    await signInAli(page);
    await page.goto(url);
    await page.getByRole("heading", { name: `Cluster ${person(10)}` }).waitFor();
  }
  const read = (await getCluster(10)).MetaLockVersion;
  await b.getByLabel("Cluster name").fill("Renamed in B");
  await b.getByRole("button", { name: "Save cluster" }).click();
  await b.getByRole("status").filter({ hasText: `Saved ${id}.` }).waitFor();
  await a.getByLabel("Custom labels (JSON object)").fill('{"from": "A"}');
  await a.getByRole("button", { name: "Save cluster" }).click();
  await a.getByRole("alert").filter({ hasText: `MetaLockVersion ${read} does not match` }).waitFor();
  assert.ok(await a.locator("#conflict").isVisible());
  assert.equal((await getCluster(10)).Name, "Renamed in B");
  await a.getByRole("button", { name: "Reload the cluster" }).click();
  await a.getByRole("heading", { name: "Cluster Renamed in B" }).waitFor();
  await a.getByLabel("Custom labels (JSON object)").fill('{"from": "A"}');
  await a.getByRole("button", { name: "Save cluster" }).click();
  await a.getByRole("status").filter({ hasText: `Saved ${id}.` }).waitFor();
  const now = await getCluster(10);
  assert.equal(now.Name, "Renamed in B");
  assert.deepEqual(now.CustomLabels, { from: "A" });
  assert.equal(now.MetaLockVersion, read + 2);
  for (const page of [a, b]) {
    assert.deepEqual(unexpected(page), []);
    await page.context().close();
  }
});

test("keyboard only: sign in with the Alibaba pair and open a cluster", async () => {
  const page = await newPage();
  await page.goto(server.base + "/console/");
  const active = () => page.evaluate(() => document.activeElement?.id);
  for (let i = 0; i < 10 && (await active()) !== "cloud-tencent"; i++) await page.keyboard.press("Tab");
  assert.equal(await active(), "cloud-tencent");
  await page.keyboard.press("ArrowDown");
  assert.equal(await active(), "cloud-aliyun");
  assert.equal(await page.locator("#secret-id-label").textContent(), "AccessKey ID");
  await page.keyboard.press("Tab");
  assert.equal(await active(), "secret-id");
  await page.keyboard.type(ALI_KEY.id);
  await page.keyboard.press("Tab");
  await page.keyboard.type(ALI_KEY.key);
  await page.keyboard.press("Enter");
  await page.locator("#c-count").filter({ hasText: "clusters in album/family" }).waitFor();
  // Tab on to the link of the first cluster (the most images: Person 12) and follow it.
  for (let i = 0; i < 50; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement?.closest("#cluster-list") !== null)) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), person(12));
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: `Cluster ${person(12)}` }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});


test("a cluster's page lists its faces with their attributes, boundary and file", async () => {
  const page = await newPage();
  await signInAli(page);
  await page.goto(`${server.base}/console/#/imm/cluster/${IMM_REGION}/album/family/${clusterId(7)}`);
  await page.getByRole("heading", { name: `Cluster ${person(7)}` }).waitFor();
  const faces = page.locator("#faces li");
  await page.locator("#faces-count").filter({ hasText: "7 faces shown, from 7 files." }).waitFor();
  assert.equal(await faces.count(), 7);
  const first = faces.filter({ hasText: "Face f-7-1" });
  assert.match(await first.textContent(), /From oss:\/\/photos\/p7-1\.jpg/);
  assert.match(await first.textContent(), /age 27; boundary left 1, top 2, 100×120/);
  // Exactly one face is marked as the cover, in text; it is the cover GetFigureCluster names.
  const cover = (await getCluster(7)).Cover.Figures[0].FigureId;
  assert.equal(await page.locator("#faces .cover").count(), 1);
  assert.equal(await faces.filter({ hasText: "This is the cover face." }).getAttribute("data-figure"), cover);
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("choose a cluster's cover among its faces", async () => {
  const page = await newPage();
  await signInAli(page);
  await page.goto(`${server.base}/console/#/imm/cluster/${IMM_REGION}/album/family/${clusterId(7)}`);
  await page.locator("#faces-count").filter({ hasText: "7 faces shown" }).waitFor();
  const before = await getCluster(7);
  const old = before.Cover.Figures[0].FigureId;
  const chosen = old === "f-7-2" ? "f-7-3" : "f-7-2";
  await page.getByRole("button", { name: `Use face ${chosen} as the cover` }).click();
  await page.getByRole("status").filter({ hasText: `The cover of ${clusterId(7)} is now face ${chosen}.` }).waitFor();
  const after = await getCluster(7);
  assert.equal(after.Cover.Figures[0].FigureId, chosen);
  assert.equal(after.Cover.URI, `oss://photos/p7-${chosen.slice(-1)}.jpg`);
  assert.equal(after.MetaLockVersion, before.MetaLockVersion + 1);
  assert.equal(await page.locator("#faces li:has(.cover)").getAttribute("data-figure"), chosen);
  assert.ok(await page.getByRole("button", { name: `Use face ${old} as the cover` }).isVisible());
  assert.match(await page.locator("#cattr-Cover").textContent(), new RegExp(`\\(face ${chosen}\\)$`));
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("filter clusters by custom labels and by creation and update time", async () => {
  const page = await newPage();
  await signInAli(page);
  await page.locator("#c-count").filter({ hasText: "clusters in album/family" }).waitFor();
  await page.getByLabel("Labels (key=value, comma-separated)").fill("n=5");
  await page.getByRole("button", { name: "Show clusters" }).click();
  await page.locator("#c-count").filter({ hasText: "1 cluster in album/family" }).waitFor();
  assert.deepEqual(await clusterNames(page), [person(5)]);
  await page.getByLabel("Labels (key=value, comma-separated)").fill("");

  const local = (ms) => new Date(ms).toISOString().slice(0, 19); // the contexts run in UTC
  const total = (await imm("QueryFigureClusters", { ProjectName: "album", DatasetName: "family", WithTotalCount: true })).TotalCount;
  await page.getByLabel("Created before").fill(local(Date.parse("2001-01-01T00:00:00Z")));
  await page.getByRole("button", { name: "Show clusters" }).click();
  await page.locator("#c-count").filter({ hasText: "0 clusters in album/family" }).waitFor();
  await page.getByLabel("Created before").fill("");
  await page.getByLabel("Created from").fill(local(Date.parse("2001-01-01T00:00:00Z")));
  await page.getByRole("button", { name: "Show clusters" }).click();
  await page.locator("#c-count").filter({ hasText: `${total} clusters in album/family` }).waitFor();
  // Updated from a day ahead: none yet; and a range around now: every cluster.
  await page.getByLabel("Updated from").fill(local(Date.now() + 86400000));
  await page.getByRole("button", { name: "Show clusters" }).click();
  await page.locator("#c-count").filter({ hasText: "0 clusters in album/family" }).waitFor();
  await page.getByLabel("Updated from").fill(local(Date.now() - 86400000));
  await page.getByLabel("Updated before").fill(local(Date.now() + 86400000));
  await page.getByRole("button", { name: "Show clusters" }).click();
  await page.locator("#c-count").filter({ hasText: `${total} clusters in album/family` }).waitFor();
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("merge two clusters: the task is followed to its end and the faces move", async () => {
  const page = await newPage();
  await signInAli(page);
  const [from, to] = [await getCluster(2), await getCluster(6)];
  await page.goto(`${server.base}/console/#/imm/cluster/${IMM_REGION}/album/family/${clusterId(6)}`);
  await page.locator("#faces-count").filter({ hasText: "6 faces shown" }).waitFor();
  await page.getByLabel("Cluster to merge into this one (its faces move here)").selectOption(clusterId(2));
  await page.getByRole("button", { name: "Merge into this cluster" }).click();
  await page.getByRole("status").filter({ hasText: `Merged ${clusterId(2)} into ${clusterId(6)}.` }).waitFor({ timeout: 30000 });
  assert.match(await page.locator("#c-merge-task").textContent(), /^Task FigureClustersMerging-[^ ]+ \(FigureClustersMerging\): Succeeded, progress 100%\.$/);
  assert.equal(await page.locator("#cattr-FaceCount").textContent(), String(from.FaceCount + to.FaceCount));
  await page.locator("#faces-count").filter({ hasText: "8 faces shown, from 8 files." }).waitFor();
  assert.equal(await page.locator("#faces li").filter({ hasText: "Face f-2-1" }).count(), 1);
  await assert.rejects(getCluster(2), /ResourceNotFound|NotFound/);
  assert.equal(await page.locator("#c-merge-from option", { hasText: clusterId(2) }).count(), 0);
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("start a clustering task and watch it run: Running until it ends, then the new cluster", async () => {
  // Pin the task in Running (state control ends it), so the test never races its duration.
  await admin("settings", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ imm: { task_min_duration_ms: 600000 } }) });
  const page = await newPage();
  try {
    await signInAli(page);
    await page.getByLabel("Dataset").selectOption("trips");
    await page.locator("#c-count").filter({ hasText: "0 clusters in album/trips" }).waitFor();
    await page.getByRole("button", { name: "Start a clustering task" }).click();
    const task = page.locator("#c-cluster-task");
    await task.filter({ hasText: /\(FaceClustering\): Running, progress 0%\.$/ }).waitFor();
    assert.ok(await page.getByRole("button", { name: "Start a clustering task" }).isDisabled());
    const id = /^Task (FaceClustering-\S+) /.exec(await task.textContent())[1];
    // Still Running a few re-reads later.
    await page.waitForTimeout(2500);
    assert.match(await task.textContent(), /Running/);
    assert.equal((await admin(`imm/tasks/${id}/finish`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ status: "Succeeded" }) })).Status, "Succeeded");
    await task.filter({ hasText: "Succeeded, progress 100%." }).waitFor({ timeout: 15000 });
    await page.locator("#c-count").filter({ hasText: "1 cluster in album/trips" }).waitFor();
    assert.match(await page.locator("#cluster-list li").first().textContent(), new RegExp(`${TRAVELLER} images, ${TRAVELLER} faces`));
    await page.getByRole("status").filter({ hasText: "Clustering done in album/trips." }).waitFor();
    assert.deepEqual(unexpected(page), []);
  } finally {
    await admin("settings", { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ imm: { task_min_duration_ms: 500 } }) });
    await page.context().close();
  }
});

test("a RAM read-only user browses IMM and gets the API's AccessDenied on a cluster rename", async () => {
  const page = await newPage();
  await signInAli(page, ALI_READER);
  await page.locator("#c-count").filter({ hasText: "clusters in album/family" }).waitFor();
  await page.getByRole("link", { name: person(8), exact: true }).click();
  await page.getByRole("heading", { name: `Cluster ${person(8)}` }).waitFor();
  assert.equal(await page.locator("#cattr-ObjectId").textContent(), clusterId(8));
  await page.getByLabel("Cluster name").fill("Not allowed");
  await page.getByRole("button", { name: "Save cluster" }).click();
  await page.getByRole("alert").filter({ hasText: "AccessDenied" }).waitFor();
  assert.match(await alertText(page), /^AccessDenied: .*UpdateFigureCluster/);
  assert.equal((await getCluster(8)).Name, person(8));
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("Alibaba temporary keys with their security token: a read-only role browses and is refused a rename", async () => {
  const r = await imm("AssumeRole", { RoleArn: "acs:ram::100000000701:role/imm-viewer", RoleSessionName: "console" }, { version: "2015-04-01" });
  const { AccessKeyId, AccessKeySecret, SecurityToken } = r.Credentials;
  const page = await newPage();
  await page.goto(server.base + "/console/");
  await page.getByLabel("Alibaba Cloud").check();
  await page.getByLabel("AccessKey ID").fill(AccessKeyId);
  await page.getByLabel("AccessKey secret").fill(AccessKeySecret);
  await page.getByLabel("Security token (temporary STS keys only; else empty)").fill(SecurityToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Face clusters" }).waitFor();
  await page.locator("#c-count").filter({ hasText: "clusters in album/family" }).waitFor();
  await page.getByRole("link", { name: person(11), exact: true }).click();
  await page.getByRole("heading", { name: `Cluster ${person(11)}` }).waitFor();
  await page.getByLabel("Cluster name").fill("Not allowed either");
  await page.getByRole("button", { name: "Save cluster" }).click();
  await page.getByRole("alert").filter({ hasText: "AccessDenied" }).waitFor();
  assert.equal((await getCluster(11)).Name, person(11));
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  const size = `${viewport.width}x${viewport.height}`;
  test(`face clusters and a cluster's page at ${size}: no horizontal overflow, controls visible`, async () => {
    const page = await newPage(viewport);
    await signInAli(page);
    await page.locator("#c-count").filter({ hasText: "clusters in album/family" }).waitFor();
    await noHorizontalScroll(page);
    for (const name of ["Show clusters", "Start a clustering task", "Next clusters"]) await visibleControl(page, page.getByRole("button", { name }));
    await visibleControl(page, page.getByLabel("Labels (key=value, comma-separated)"));
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, `clusters-${size}.png`);
    await page.goto(`${server.base}/console/#/imm/cluster/${IMM_REGION}/album/family/${clusterId(9)}`);
    await page.locator("#faces-count").filter({ hasText: "9 faces shown" }).waitFor();
    await noHorizontalScroll(page);
    for (const name of ["Save cluster", "Merge into this cluster"]) await visibleControl(page, page.getByRole("button", { name }));
    await visibleControl(page, page.locator("#faces li button").first());
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, `cluster-${size}.png`);
    await page.locator("#faces").scrollIntoViewIfNeeded();
    await shot(page, `cluster-faces-${size}.png`);
    assert.deepEqual(unexpected(page), []);
    await page.context().close();
  });
}

// --- Operations, signed in with the admin token -------------------------------------------

const ADMIN_TOKEN = "console-suite-admin";

async function admin(path, init = {}) {
  const res = await fetch(`${server.base}/_cloudtwin/${path}`, { ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers || {}) } });
  assert.ok(res.ok, `${path}: HTTP ${res.status}`);
  return res.json();
}

async function signInAdmin(page, token = ADMIN_TOKEN) {
  await page.goto(server.base + "/console/");
  await page.getByLabel("cloudtwin admin token").check();
  assert.equal(await page.getByLabel("SecretId").isVisible(), false);
  await page.getByLabel("Admin token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const opsRow = (page, action) => page.locator(`#metrics-table tbody tr[data-action="${action}"]`);
const cell = (row, label) => row.locator(`td[data-label="${label}"]`);

test("admin sign-in: a wrong token shows the 401 answer and stays signed out", async () => {
  const page = await newPage();
  await signInAdmin(page, "not-the-token");
  await page.getByRole("alert").filter({ hasText: "HTTP 401" }).waitFor();
  assert.match(await alertText(page), /HTTP 401: admin routes need `Authorization: Bearer <admin_token>`/);
  assert.ok(await page.getByRole("heading", { name: "Sign in" }).isVisible());
  assert.equal(await page.getByRole("heading", { name: "Operations" }).isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("cloudtwin.console.admin")), null);
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("keyboard only: sign in with the admin token", async () => {
  const page = await newPage();
  await page.goto(server.base + "/console/");
  const active = () => page.evaluate(() => document.activeElement?.id);
  for (let i = 0; i < 10 && (await active()) !== "cloud-tencent"; i++) await page.keyboard.press("Tab");
  assert.equal(await active(), "cloud-tencent");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  assert.equal(await active(), "cloud-admin");
  assert.equal(await page.locator("#secret-key-label").textContent(), "Admin token");
  await page.keyboard.press("Tab");
  assert.equal(await active(), "secret-key");
  await page.keyboard.type(ADMIN_TOKEN);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Operations" }).waitFor();
  // Focus moves to the view's heading once its first refresh is shown.
  await page.waitForFunction(() => document.activeElement?.id === "ops-title");
  assert.equal(await page.locator("#h-status").textContent(), "ok");
  assert.equal(new URL(page.url()).hash, "#/ops");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("health shows the schema version; a request count grows live after signed API calls", async () => {
  const health = await admin("health");
  await api("DescribeImages", { Limit: 1 });
  const page = await newPage();
  await signInAdmin(page);
  await page.getByRole("heading", { name: "Operations" }).waitFor();
  await page.locator("#h-schema").filter({ hasText: String(health.schema_version) }).waitFor();
  assert.equal(await page.locator("#h-schema").textContent(), String(health.schema_version));
  assert.equal(await page.locator("#h-status").textContent(), "ok");
  assert.match(await page.locator("#h-uptime").textContent(), /\d+ s$/);
  assert.match(await page.locator("#h-store").textContent(), /^\d+\.\d MiB$/);
  assert.match(await page.locator("#h-flushes").textContent(), /^\d+/);
  assert.match(await page.locator("#h-faults").textContent(), /^\d+$/);
  const row = opsRow(page, "tencent/DescribeImages");
  await row.waitFor();
  const before = Number(await cell(row, "Requests").textContent());
  assert.ok(before > 0);
  for (let i = 0; i < 3; i++) await api("DescribeImages", { Limit: 1 });
  await page.waitForFunction(([n]) => Number(document.querySelector('#metrics-table tr[data-action="tencent/DescribeImages"] td[data-label="Requests"]')?.textContent) >= n, [before + 3], { timeout: 10000 });
  assert.match(await cell(row, "Codes").textContent(), /Success \d+/);
  assert.match(await cell(row, "Mean latency").textContent(), /^\d+\.\d ms$/);
  // Percentiles from the histogram's buckets, in order.
  const pct = (await cell(row, "Latency p50 / p95 / p99").textContent()).split(" / ").map((t) => Number(/^([\d.]+) ms$/.exec(t)[1]));
  assert.equal(pct.length, 3);
  assert.ok(pct[0] <= pct[1] && pct[1] <= pct[2], pct.join());
  // A refresh after the calls has a rate over its interval, in text; the sparkline says its points.
  await page.waitForFunction(() => /\/s$/.test(document.querySelector('#metrics-table tr[data-action="tencent/DescribeImages"] td[data-label="Rate"]')?.textContent || ""));
  assert.match(await page.locator("#ops-updated").textContent(), /re-read every 3 s/);
  // The chart moves: after more calls, an interval with requests in it, and the line rises.
  const spark = () => page.evaluate(() => {
    const svg = document.querySelector('#metrics-table tr[data-action="tencent/DescribeImages"] svg');
    const m = /oldest first: (.*)$/.exec(svg.getAttribute("aria-label"));
    return { sum: m ? m[1].split(", ").reduce((a, n) => a + Number(n), 0) : 0, points: svg.querySelector("polyline").getAttribute("points") };
  });
  const flat = await spark();
  for (let i = 0; i < 5; i++) await api("DescribeImages", { Limit: 1 });
  await page.waitForFunction((sum) => {
    const m = /oldest first: (.*)$/.exec(document.querySelector('#metrics-table tr[data-action="tencent/DescribeImages"] svg')?.getAttribute("aria-label") || "");
    return m && m[1].split(", ").reduce((a, n) => a + Number(n), 0) >= sum + 5;
  }, flat.sum, { timeout: 15000 });
  const moved = await spark();
  assert.notEqual(moved.points, flat.points);
  assert.ok(moved.points.split(" ").some((p) => Number(p.split(",")[1]) < 22), moved.points);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the request journal: turn it on, it lists a call, and the filter narrows it", async () => {
  const page = await newPage();
  await signInAdmin(page);
  await page.locator("#j-state").filter({ hasText: "The journal is off" }).waitFor();
  const file = join(server.tmp, "journal.jsonl");
  await page.getByLabel("Journal file on the server").fill(file);
  await page.getByRole("button", { name: "Turn the journal on" }).click();
  await page.locator("#j-state").filter({ hasText: `writing to ${file}` }).waitFor();
  assert.equal((await admin("request-log")).path, file);
  await api("DescribeImages", { Limit: 1 });
  await imm("ListProjects", { MaxResults: 1 });
  let code;
  try {
    await api("ModifyImageAttribute", { ImageId: "img-00000000", ImageName: "nope" });
  } catch (e) {
    code = /^ModifyImageAttribute: ([^:]+):/.exec(e.message)[1];
  }
  assert.ok(code, "the modify of a missing image is refused");
  const journal = page.locator("#journal-table tbody tr");
  await journal.filter({ hasText: "ModifyImageAttribute" }).waitFor({ timeout: 10000 });
  assert.ok(await journal.filter({ hasText: "DescribeImages" }).count() >= 1);
  await page.getByLabel("Action contains").fill("ListProjects");
  assert.ok(await journal.count() >= 1);
  assert.deepEqual([...new Set(await journal.locator('td[data-label="Action"]').allTextContents())], ["ListProjects"]);
  await page.getByLabel("Action contains").fill("");
  await page.getByLabel("Code contains").fill(code);
  const codes = await journal.locator('td[data-label="Code"]').allTextContents();
  assert.ok(codes.length >= 1 && codes.every((c) => c === code), codes.join());
  assert.deepEqual(await journal.locator('td[data-label="Action"]').allTextContents(), Array(codes.length).fill("ModifyImageAttribute"));
  assert.match(await page.locator("#j-count").textContent(), new RegExp(`^${codes.length} of \\d+ journalled requests shown\\.$`));
  await page.getByRole("button", { name: "Turn the journal off" }).click();
  await page.locator("#j-state").filter({ hasText: "The journal is off" }).waitFor();
  assert.equal((await admin("request-log")).path, null);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

const putJson = (body) => ({ method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

test("settings: the delays in force are shown and saved from the page", async () => {
  const page = await newPage();
  await signInAdmin(page);
  const ready = page.getByLabel("Image ready after (ms): CREATING, SYNCING, IMPORTING end after this");
  await page.waitForFunction(() => document.getElementById("set-ready").value !== "");
  assert.equal(await ready.inputValue(), "0");
  assert.equal(await page.getByLabel(/^Shortest task run/).inputValue(), "500");
  await ready.fill("1500");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByRole("status").filter({ hasText: "Settings saved: images ready after 1500 ms, tasks run at least 500 ms." }).waitFor();
  assert.deepEqual(await admin("settings"), { cvm: { image_ready_after_ms: 1500 }, imm: { task_min_duration_ms: 500 } });
  await ready.fill("0");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByRole("status").filter({ hasText: "images ready after 0 ms" }).waitFor();
  assert.equal((await admin("settings")).cvm.image_ready_after_ms, 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("fault rules: add one from the page, it fires on a signed call, its count shows, remove it", async () => {
  const page = await newPage();
  await signInAdmin(page);
  await page.locator("#f-count").filter({ hasText: "No fault rule" }).waitFor();
  await page.getByLabel("Dialect", { exact: true }).selectOption("tencent");
  await page.getByLabel("Action (empty: any)").fill("DescribeImages");
  await page.getByLabel(/^Error code/).fill("RequestLimitExceeded");
  await page.getByLabel("Error message").fill("slow down from the console");
  await page.getByLabel("Times (empty: forever)").fill("2"); // a spent rule goes away: one fires, one stays
  await page.getByRole("button", { name: "Add the rule" }).click();
  await page.getByRole("status").filter({ hasText: /^Added the fault rule fault-/ }).waitFor();
  const rules = (await admin("faults")).rules;
  assert.equal(rules.length, 1);
  assert.deepEqual([rules[0].dialect, rules[0].action, rules[0].count, rules[0].error.code], ["tencent", "DescribeImages", 2, "RequestLimitExceeded"]);
  const row = page.locator(`#faults-table tbody tr[data-rule="${rules[0].id}"]`);
  assert.match(await row.locator('td[data-label="Does"]').textContent(), /answers RequestLimitExceeded \(slow down from the console\)/);
  await assert.rejects(api("DescribeImages", { Limit: 1 }), /RequestLimitExceeded: slow down from the console/);
  await row.locator('td[data-label="Fired"]').filter({ hasText: /^1$/ }).waitFor({ timeout: 10000 });
  // The injected error shows in the action's codes and moves its error chart.
  await page.waitForFunction(() => /errors per interval, oldest first: .*[1-9]/.test(document.querySelector('#metrics-table tr[data-action="tencent/DescribeImages"] td[data-label="Error trend"] svg')?.getAttribute("aria-label") || ""), null, { timeout: 15000 });
  assert.match(await page.locator('#metrics-table tr[data-action="tencent/DescribeImages"] td[data-label="Codes"]').textContent(), /RequestLimitExceeded 1/);
  await page.getByRole("button", { name: `Remove rule ${rules[0].id}` }).click();
  await page.getByRole("status").filter({ hasText: `Removed the fault rule ${rules[0].id}.` }).waitFor();
  assert.deepEqual((await admin("faults")).rules, []);
  await page.locator("#f-count").filter({ hasText: "No fault rule" }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("backup writes a copy of the store into a new directory on the server", async () => {
  const page = await newPage();
  await signInAdmin(page);
  const dir = join(server.tmp, "backup-from-console");
  await page.getByLabel("Directory on the server (new or empty)").fill(dir);
  await page.getByRole("button", { name: "Back up the store" }).click();
  await page.getByRole("status").filter({ hasText: `Backed up the store to ${dir}` }).waitFor();
  assert.ok(readdirSync(dir).length > 0);
  // A second backup into the same, now non-empty, directory shows the server's refusal.
  await page.getByRole("button", { name: "Back up the store" }).click();
  await page.getByRole("alert").filter({ hasText: "HTTP 4" }).waitFor();
  assert.deepEqual(unexpected(page), []);
  await page.context().close();
});

test("export downloads the state; import merges a document, after a confirmation", async () => {
  const page = await newPage();
  await signInAdmin(page);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export the state" }).click()]);
  const doc = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(doc.format, "cloudtwin-state");
  assert.deepEqual(doc, await admin("state"));
  const images = doc.cvm.Images.length;
  await page.locator("#export-done").filter({ hasText: `${images} images` }).waitFor();

  const imported = { format: "cloudtwin-state", version: 1, cvm: { Images: [{ AccountId: "100000000701", Region: REGION, ImageName: "console-imported", ImageFamily: "fam" }] } };
  await page.getByLabel("State document (JSON)").setInputFiles({ name: "fixture.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(imported)) });
  const dialog = page.getByRole("dialog", { name: "Import the document?" });
  await page.getByRole("button", { name: "Import…" }).click();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("status").filter({ hasText: "Nothing was imported." }).waitFor();
  assert.equal((await api("DescribeImages", { Filters: [{ Name: "image-name", Values: ["console-imported"] }] })).TotalCount, 0);
  await page.getByRole("button", { name: "Import…" }).click();
  assert.match(await dialog.textContent(), /Merge fixture\.json into the state\? What exists is kept\./);
  await dialog.getByRole("button", { name: "Import", exact: true }).click();
  await page.getByRole("status").filter({ hasText: /^Merged the document: added 1 \w+; skipped 0 that existed\.$/ }).waitFor();
  const found = await api("DescribeImages", { Filters: [{ Name: "image-name", Values: ["console-imported"] }] });
  assert.equal(found.TotalCount, 1);
  assert.equal(found.ImageSet[0].ImageFamily, "fam");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  const size = `${viewport.width}x${viewport.height}`;
  test(`operations at ${size}: no horizontal overflow, controls visible`, async () => {
    const page = await newPage(viewport);
    await signInAdmin(page);
    await opsRow(page, "tencent/DescribeImages").waitFor();
    await noHorizontalScroll(page);
    await shot(page, `operations-${size}.png`);
    for (const name of ["Turn the journal on", "Save settings", "Add the rule", "Back up the store", "Export the state", "Import…", "Reset…"]) {
      await visibleControl(page, page.getByRole("button", { name, exact: true }));
    }
    await visibleControl(page, page.getByLabel("Account id (empty: every account)"));
    await noHorizontalScroll(page);
    await page.locator("#settings").scrollIntoViewIfNeeded();
    await shot(page, `operations-settings-${size}.png`);
    await page.locator("#backup").scrollIntoViewIfNeeded();
    await shot(page, `operations-backup-${size}.png`);
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}

// Last: it empties the store.
test("reset asks for a confirmation: cancel keeps the data, one account's part, then everything", async () => {
  // The account's own images (the public ones are built in and stay).
  const images = async () => (await api("DescribeImages", { Limit: 1, Filters: [{ Name: "image-type", Values: ["PRIVATE_IMAGE"] }] })).TotalCount;
  const projects = async () => ((await imm("ListProjects", { MaxResults: 100 })).Projects || []).length;
  const before = await images();
  assert.ok(before > 0);
  assert.ok(await projects() > 0);
  const page = await newPage();
  await signInAdmin(page);
  await page.getByRole("heading", { name: "Operations" }).waitFor();
  const dialog = page.getByRole("dialog", { name: "Reset data?" });
  await page.getByRole("button", { name: "Reset…" }).click();
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Deletes all cloud data of every account\./);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("status").filter({ hasText: "Nothing was reset." }).waitFor();
  assert.equal(await images(), before);

  await page.getByLabel("Account id (empty: every account)").fill("100000000701");
  await page.getByLabel("Part").selectOption("imm");
  await page.getByRole("button", { name: "Reset…" }).click();
  assert.match(await dialog.textContent(), /Deletes the IMM projects, datasets and clusters of account 100000000701\./);
  await dialog.getByRole("button", { name: "Reset", exact: true }).click();
  await page.getByRole("status").filter({ hasText: /^Reset: \d+ keys removed/ }).waitFor();
  assert.equal(await projects(), 0);
  assert.equal(await images(), before);

  await page.getByLabel("Account id (empty: every account)").fill("");
  await page.getByLabel("Part").selectOption("");
  await page.getByRole("button", { name: "Reset…" }).click();
  // The first reset's status line reads the same way: wait for this reset's own line (a
  // status other than the first one's), then for the images to be gone, to a generous deadline.
  const firstStatus = await page.getByRole("status").filter({ hasText: /^Reset: \d+ keys removed/ }).textContent();
  await dialog.getByRole("button", { name: "Reset", exact: true }).click();
  await page.waitForFunction(
    (prev) =>
      [...document.querySelectorAll("[role=status]")].some(
        (e) => /^Reset: \d+ keys removed/.test(e.textContent) && e.textContent !== prev,
      ),
    firstStatus,
    { timeout: 30000 },
  );
  const deadline = Date.now() + 30000;
  let left = await images();
  while (left !== 0 && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 100));
    left = await images();
  }
  assert.equal(left, 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
