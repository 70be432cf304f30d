// The web console (/console/) in Debian's headless Chromium, driven by playwright-core, against
// the real cloudtwin binary: sign-in (also by keyboard only), the image list with a filter and
// paging, an image's page, rename (persisted, checked by a Node-side signed call), the
// duplicate-name refusal, a read-only sub-user's refusal, share, delete with a confirmation,
// live state on an image's page, and no horizontal scroll at 1280x800 and 390x844.
//
// Run: CLOUDTWIN_BIN=target/debug/cloudtwin node --test tests/console/run.mjs (tests/run.sh
// does, after `npm ci` here). CHROMIUM overrides /usr/bin/chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
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
[[accounts.cam_users]]
name = "reader"
secret_id = "${READER_KEY.id}"
secret_key = "${READER_KEY.key}"
policies = ["QcloudCVMReadOnlyAccess"]
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
async function api(action, params, key = ROOT_KEY) {
  const body = JSON.stringify(params);
  const host = server.base.replace(/^http:\/\//, "");
  const ts = Math.floor(Date.now() / 1000);
  const date = new Date(ts * 1000).toISOString().slice(0, 10);
  const ct = "application/json; charset=utf-8";
  const sha = (s) => createHash("sha256").update(s).digest("hex");
  const mac = (k, s) => createHmac("sha256", k).update(s).digest();
  const canonical = `POST\n/\n\ncontent-type:${ct}\nhost:${host}\n\ncontent-type;host\n${sha(body)}`;
  const scope = `${date}/cvm/tc3_request`;
  const sts = `TC3-HMAC-SHA256\n${ts}\n${scope}\n${sha(canonical)}`;
  const sig = createHmac("sha256", mac(mac(mac("TC3" + key.key, date), "cvm"), "tc3_request")).update(sts).digest("hex");
  const res = await fetch(server.base + "/", {
    method: "POST",
    headers: {
      Authorization: `TC3-HMAC-SHA256 Credential=${key.id}/${scope}, SignedHeaders=content-type;host, Signature=${sig}`,
      "Content-Type": ct,
      "X-TC-Action": action,
      "X-TC-Version": "2017-03-12",
      "X-TC-Timestamp": String(ts),
      "X-TC-Region": REGION,
    },
    body,
  });
  const r = (await res.json()).Response;
  if (r.Error) throw new Error(`${action}: ${r.Error.Code}: ${r.Error.Message}`);
  return r;
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
  const context = await browser.newContext({ viewport });
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

  await page.getByLabel("State").selectOption("CREATEFAILED");
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
  await page.getByLabel("Description").fill("renamed in a browser");
  await page.getByLabel("Family").fill("console-family");
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
