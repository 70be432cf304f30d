// The official Node.js SDKs against the real cloudtwin binary, unchanged but for the endpoint:
// tencentcloud-sdk-nodejs-cvm (TC3 POST/GET and v1 HmacSHA256/HmacSHA1), @alicloud/openapi-client
// (the client class that every generated Alibaba product client, @alicloud/imm20200930 included,
// extends; V3 ACS3-HMAC-SHA256 and v2 RPC signatures) and @alicloud/pop-core (RPC HMAC-SHA1);
// and the first two over HTTPS to a TLS-enabled cloudtwin, trusting its CA by NODE_EXTRA_CA_CERTS.
//
// Run: CLOUDTWIN_BIN=target/debug/cloudtwin node --test tests/node/   (tests/run.sh does).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

import tencentcloud from "tencentcloud-sdk-nodejs-cvm";
import OpenApi from "@alicloud/openapi-client";
import TeaUtil from "@alicloud/tea-util";
import RPCClient from "@alicloud/pop-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = process.env.CLOUDTWIN_BIN || join(process.env.CARGO_TARGET_DIR || join(ROOT, "target"), "debug", "cloudtwin");

// The credentials of the repository's default config.toml (README, "Credentials").
const SECRET_ID = "AKIDCLOUDTWIN00000000000000000000001";
const SECRET_KEY = "cloudtwinSecretKey000000000000001";
const AK_ID = "LTAICLOUDTWIN0000000001";
const AK_SECRET = "cloudtwinAccessKeySecret00000001";

let server; // { procs, endpoint, tmp, db? }: one node, or (cluster mode) three nodes and the proxy

function configText(dataDir) {
  return `listen = "127.0.0.1:0"
data_dir = "${dataDir}"
admin_token = "node-suite-admin"
[[accounts]]
id = "100000000001"
name = "one"
[accounts.tencent]
app_id = 1300000001
secret_id = "${SECRET_ID}"
secret_key = "${SECRET_KEY}"
[accounts.aliyun]
access_key_id = "${AK_ID}"
access_key_secret = "${AK_SECRET}"
[[accounts]]
id = "100000000002"
name = "two"
[accounts.tencent]
app_id = 1300000002
secret_id = "AKIDCLOUDTWIN00000000000000000000002"
secret_key = "cloudtwinSecretKey000000000000002"
[accounts.aliyun]
access_key_id = "LTAICLOUDTWIN0000000002"
access_key_secret = "cloudtwinAccessKeySecret00000002"
[cvm]
image_ready_after_ms = 0
[rate_limit]
enabled = false
[imm]
task_min_duration_ms = 50
`;
}

// The first line a started process prints, matched against `re` (its first group).
function firstLine(proc, re, what) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what}: no listening line within 30 s`)), 30000);
    proc.on("error", fail);
    proc.on("exit", (code) => fail(new Error(`${what} exited with ${code} before listening`)));
    createInterface({ input: proc.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const m = re.exec(line);
      m ? ok(m[1]) : fail(new Error(`${what}: unexpected first line ${JSON.stringify(line)}`));
    });
  });
}

// Cluster mode (CLOUDTWIN_NODE_CLUSTER=1, with CLOUDTWIN_TEST_PG_URL naming a PostgreSQL
// superuser, as tests/pg.sh exports): three nodes over one fresh database behind the
// round-robin proxy of tests/sdk/rr_proxy.py, which sends each request to the next node.
const CLUSTER = process.env.CLOUDTWIN_NODE_CLUSTER === "1";
const PG_ADMIN = process.env.CLOUDTWIN_TEST_PG_URL;

function psql(sql) {
  const r = spawnSync("psql", [PG_ADMIN, "-qtAc", sql], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
}

async function startNode(tmp, name, extra) {
  const dataDir = join(tmp, name);
  const config = join(tmp, `${name}.toml`);
  writeFileSync(config, configText(dataDir) + extra);
  const env = { ...process.env, CLOUDTWIN_LOG: process.env.CLOUDTWIN_LOG || "warn" };
  delete env.CLOUDTWIN_STORE_URL;
  const proc = spawn(BIN, ["serve", "--config", config, "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "ignore"],
    env,
  });
  const endpoint = await firstLine(proc, /^cloudtwin listening on http:\/\/(\S+)/, name);
  proc.stdout.resume();
  return { proc, endpoint };
}

before(async () => {
  const tmp = mkdtempSync(join(tmpdir(), "cloudtwin-node-"));
  if (!CLUSTER) {
    const node = await startNode(tmp, "data", "");
    server = { procs: [node.proc], endpoint: node.endpoint, tmp };
    return;
  }
  assert.ok(PG_ADMIN, "cluster mode needs CLOUDTWIN_TEST_PG_URL (tests/pg.sh)");
  const db = `ct_node_${process.pid}_${Date.now() % 1000000}`;
  psql(`CREATE DATABASE ${db}`);
  const url = PG_ADMIN.replace(/\/[^/]*$/, `/${db}`);
  const store = `[store]\nbackend = "postgres"\nurl = "${url}"\n`;
  // Node 1 opens the new database first, the other two then at once.
  const nodes = [await startNode(tmp, "node-1", `${store}[cluster]\nnode_id = "node-1"\n`)];
  nodes.push(
    ...(await Promise.all(
      ["node-2", "node-3"].map((n) => startNode(tmp, n, `${store}[cluster]\nnode_id = "${n}"\n`)),
    )),
  );
  const proxy = spawn("python3", [join(ROOT, "tests", "sdk", "rr_proxy.py"), ...nodes.map((n) => n.endpoint)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const endpoint = await firstLine(proxy, /^rr-proxy listening on (\S+)/, "rr_proxy.py");
  proxy.stdout.resume();
  server = { procs: [...nodes.map((n) => n.proc), proxy], endpoint, tmp, db, nodes };
});

after(async () => {
  if (server) {
    const { procs, tmp, db } = server;
    for (const proc of procs) {
      if (proc.exitCode === null) {
        const exited = new Promise((ok) => proc.once("exit", ok));
        process.kill(proc.pid, "SIGTERM");
        await exited;
      }
    }
    if (db) psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    rmSync(tmp, { recursive: true, force: true });
  }
});

let counter = 0;
const unique = (prefix) => `${prefix}_${process.pid}_${++counter}_${Date.now() % 100000}`;

// --- Tencent Cloud CVM: tencentcloud-sdk-nodejs-cvm --------------------------------------

function cvm(signMethod, reqMethod) {
  const Client = tencentcloud.cvm.v20170312.Client;
  return new Client({
    credential: { secretId: SECRET_ID, secretKey: SECRET_KEY },
    region: "ap-guangzhou",
    profile: { signMethod, httpProfile: { endpoint: server.endpoint, protocol: "http://", reqMethod, reqTimeout: 30 } },
  });
}

const CVM_STYLES = [
  ["TC3-HMAC-SHA256", "POST"],
  ["TC3-HMAC-SHA256", "GET"],
  ["HmacSHA256", "GET"],
  ["HmacSHA1", "POST"],
];

for (const [signMethod, reqMethod] of CVM_STYLES) {
  test(`cvm ${signMethod} ${reqMethod}: CreateImage, DescribeImages, ModifyImageAttribute, DeleteImages`, async () => {
    const c = cvm(signMethod, reqMethod);
    const name = unique("node-img");
    const created = await c.CreateImage({ ImageName: name, InstanceId: "ins-abcdefgh" });
    assert.match(created.ImageId, /^img-[a-z0-9]{8}$/);
    const id = created.ImageId;

    const listed = await c.DescribeImages({ ImageIds: [id] });
    assert.equal(listed.TotalCount, 1);
    assert.equal(listed.ImageSet[0].ImageName, name);
    assert.equal(listed.ImageSet[0].ImageType, "PRIVATE_IMAGE");

    await c.ModifyImageAttribute({ ImageId: id, ImageName: `${name}-renamed`, ImageDescription: "from node" });
    const after = (await c.DescribeImages({ ImageIds: [id] })).ImageSet[0];
    assert.equal(after.ImageName, `${name}-renamed`);
    assert.equal(after.ImageDescription, "from node");

    await c.DeleteImages({ ImageIds: [id] });
    const gone = await c.DescribeImages({ Filters: [{ Name: "image-id", Values: [id] }] });
    assert.equal(gone.TotalCount, 0);
  });
}

test("cvm: an error code surfaces as the SDK's error with code", async () => {
  const c = cvm("TC3-HMAC-SHA256", "POST");
  await assert.rejects(c.ModifyImageAttribute({ ImageId: "img-zzzzzzzz", ImageName: "x" }), (e) => {
    assert.equal(e.constructor.name, "TencentCloudSDKHttpException");
    assert.equal(e.code, "InvalidImageId.NotFound");
    assert.ok(e.requestId, "the RequestId of the answer");
    return true;
  });
  const wrong = new tencentcloud.cvm.v20170312.Client({
    credential: { secretId: SECRET_ID, secretKey: "not-the-key" },
    region: "ap-guangzhou",
    profile: { httpProfile: { endpoint: server.endpoint, protocol: "http://" } },
  });
  await assert.rejects(wrong.DescribeImages({}), (e) => e.code === "AuthFailure.SignatureFailure");
});

// --- Alibaba Cloud IMM: @alicloud/openapi-client (V3 and v2) ------------------------------

function imm(signatureAlgorithm) {
  const config = new OpenApi.Config({
    accessKeyId: AK_ID,
    accessKeySecret: AK_SECRET,
    endpoint: server.endpoint,
    protocol: "http",
    regionId: "cn-hangzhou",
  });
  if (signatureAlgorithm) config.signatureAlgorithm = signatureAlgorithm;
  return new OpenApi.default(config);
}

// What @alicloud/imm20200930's generated `<action>WithOptions` does: every parameter goes to
// the query, structures and arrays as JSON (its "shrink" fields), then callApi with these Params.
async function immCall(client, action, params) {
  const query = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    query[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  const p = new OpenApi.Params({
    action, version: "2020-09-30", protocol: "HTTPS", pathname: "/", method: "POST",
    authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json",
  });
  const res = await client.callApi(p, new OpenApi.OpenApiRequest({ query }), new TeaUtil.RuntimeOptions({}));
  assert.equal(res.statusCode, 200);
  return res.body;
}

async function waitTask(client, project, taskId, taskType) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const t = await immCall(client, "GetTask", { ProjectName: project, TaskId: taskId, TaskType: taskType });
    if (t.Status !== "Running") return t;
    assert.ok(Date.now() < deadline, `task ${taskId} still running`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

for (const [label, algorithm] of [["V3 ACS3-HMAC-SHA256", undefined], ["v2 RPC HMAC-SHA1", "v2"]]) {
  test(`imm ${label}: CreateProject, CreateDataset, IndexFileMeta, clustering, UpdateFigureCluster, QueryFigureClusters`, async () => {
    const c = imm(algorithm);
    const project = unique("node_proj");
    const created = await immCall(c, "CreateProject", { ProjectName: project, Description: "from node" });
    assert.equal(created.Project.ProjectName, project);
    await immCall(c, "CreateDataset", { ProjectName: project, DatasetName: "faces" });
    for (const k of [0, 1]) {
      await immCall(c, "IndexFileMeta", {
        ProjectName: project, DatasetName: "faces",
        File: { URI: `oss://bucket/alice-${k}.jpg`, Figures: [{ FigureId: `alice-${k}`, FigureType: "face", FigureClusterId: "alice" }] },
      });
    }
    const task = await immCall(c, "CreateFigureClusteringTask", { ProjectName: project, DatasetName: "faces", Tags: { from: "node" } });
    assert.ok(task.TaskId);
    const done = await waitTask(c, project, task.TaskId, "FaceClustering");
    assert.equal(done.Status, "Succeeded", JSON.stringify(done));

    const q = await immCall(c, "QueryFigureClusters", { ProjectName: project, DatasetName: "faces", WithTotalCount: true });
    assert.equal(q.TotalCount, 1, JSON.stringify(q));
    const cluster = q.FigureClusters[0];
    assert.equal(cluster.ImageCount, 2);

    await immCall(c, "UpdateFigureCluster", {
      ProjectName: project, DatasetName: "faces",
      FigureCluster: { ObjectId: cluster.ObjectId, Name: "Alice", CustomLabels: { team: "node" } },
    });
    const named = (await immCall(c, "QueryFigureClusters", { ProjectName: project, DatasetName: "faces" })).FigureClusters[0];
    assert.equal(named.Name, "Alice");
    assert.deepEqual(named.CustomLabels, { team: "node" });

    await assert.rejects(immCall(c, "CreateDataset", { ProjectName: unique("no_such"), DatasetName: "d" }), (e) => {
      assert.equal(e.code, "ResourceNotFound", e.message);
      assert.equal(e.statusCode, 404);
      return true;
    });
  });
}

// --- Alibaba Cloud IMM: @alicloud/pop-core (RPC HMAC-SHA1) ---------------------------------

test("imm pop-core: CreateProject and a surfaced error", async () => {
  const c = new RPCClient({
    accessKeyId: AK_ID,
    accessKeySecret: AK_SECRET,
    endpoint: `http://${server.endpoint}`,
    apiVersion: "2020-09-30",
  });
  const project = unique("node_pop");
  const r = await c.request("CreateProject", { ProjectName: project }, { method: "POST" });
  assert.equal(r.Project.ProjectName, project);
  assert.ok(r.RequestId);
  await assert.rejects(c.request("CreateProject", { ProjectName: project }, { method: "POST" }), (e) => {
    assert.equal(e.code, "ResourceAlreadyExists", e.message);
    return true;
  });
});

// --- HTTPS: both SDKs with their default protocol, trusting the generated CA ---------------
// A second cloudtwin with its TLS listener on (CLOUDTWIN_TLS_LISTEN, --ephemeral, TMPDIR of its
// own so that its DATA_DIR/tls/ca.pem can be found). Node reads NODE_EXTRA_CA_CERTS only when a
// process starts, so the calls run in a child node process with and without it.

const HTTPS_CALLS = `
import tencentcloud from "tencentcloud-sdk-nodejs-cvm";
import OpenApi from "@alicloud/openapi-client";
import TeaUtil from "@alicloud/tea-util";
const endpoint = process.env.TWIN_HTTPS;
const out = {};
try {
  // No protocol: the SDK's default, https://.
  const c = new tencentcloud.cvm.v20170312.Client({
    credential: { secretId: "${SECRET_ID}", secretKey: "${SECRET_KEY}" },
    region: "ap-guangzhou",
    profile: { httpProfile: { endpoint, reqTimeout: 30 } },
  });
  out.cvm = "ok " + (await c.DescribeImages({})).TotalCount;
} catch (e) { out.cvm = "error " + (e.code || "") + " " + e.message; }
try {
  // No protocol in the Config: the Params' HTTPS, as @alicloud/imm20200930 passes it.
  const client = new OpenApi.default(new OpenApi.Config({
    accessKeyId: "${AK_ID}", accessKeySecret: "${AK_SECRET}", endpoint, regionId: "cn-hangzhou",
  }));
  const p = new OpenApi.Params({
    action: "ListProjects", version: "2020-09-30", protocol: "HTTPS", pathname: "/", method: "POST",
    authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json",
  });
  const res = await client.callApi(p, new OpenApi.OpenApiRequest({ query: {} }), new TeaUtil.RuntimeOptions({ autoretry: false }));
  out.imm = "ok " + res.statusCode;
} catch (e) { out.imm = "error " + (e.code || "") + " " + e.message; }
console.log(JSON.stringify(out));
`;

function httpsCalls(endpoint, extraEnv) {
  const env = { ...process.env, TWIN_HTTPS: endpoint, ...extraEnv };
  if (!("NODE_EXTRA_CA_CERTS" in extraEnv)) delete env.NODE_EXTRA_CA_CERTS;
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", HTTPS_CALLS], {
      cwd: dirname(fileURLToPath(import.meta.url)),
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.on("error", fail);
    child.on("exit", (code) => (code === 0 ? ok(JSON.parse(text)) : fail(new Error(`node exited ${code}: ${text}`))));
  });
}

test("https: NODE_EXTRA_CA_CERTS makes tencentcloud-sdk-nodejs-cvm and @alicloud/openapi-client trust the generated CA", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "cloudtwin-node-tls-"));
  const config = join(tmp, "config.toml");
  writeFileSync(config, configText(join(tmp, "unused")));
  const proc = spawn(BIN, ["serve", "--ephemeral", "--config", config, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, CLOUDTWIN_LOG: "warn", CLOUDTWIN_TLS_LISTEN: "127.0.0.1:0", TMPDIR: tmp },
  });
  try {
    const lines = [];
    const https = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("no https listening line within 30 s")), 30000);
      proc.on("exit", (code) => fail(new Error(`cloudtwin exited with ${code} before listening`)));
      createInterface({ input: proc.stdout }).on("line", (line) => {
        lines.push(line);
        if (lines.length === 2) {
          clearTimeout(timer);
          const m = /^cloudtwin listening on https:\/\/(\S+)/.exec(line);
          m ? ok(m[1]) : fail(new Error(`unexpected lines ${JSON.stringify(lines)}`));
        }
      });
    });
    const eph = readdirSync(tmp).filter((n) => n.startsWith("cloudtwin-ephemeral-"));
    assert.equal(eph.length, 1, JSON.stringify(eph));
    const ca = join(tmp, eph[0], "tls", "ca.pem");
    assert.ok(existsSync(ca), ca);

    const untrusted = await httpsCalls(https, {});
    // Without the variable the certificate is refused (UNABLE_TO_GET_ISSUER_CERT_LOCALLY).
    assert.match(untrusted.cvm, /^error.*(certificate|issuer)/i, untrusted.cvm);
    assert.match(untrusted.imm, /^error.*(certificate|issuer)/i, untrusted.imm);
    const trusted = await httpsCalls(https, { NODE_EXTRA_CA_CERTS: ca });
    assert.match(trusted.cvm, /^ok /, trusted.cvm);
    assert.equal(trusted.imm, "ok 200");
  } finally {
    if (proc.exitCode === null) {
      const exited = new Promise((ok) => proc.once("exit", ok));
      process.kill(proc.pid, "SIGTERM");
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});
