"""Fixtures for the official-client suite: run the real cloudtwin binary on a free port with a
config of the suite's own, and build official SDK clients in each request style."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from rr_proxy import RoundRobinProxy
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tests/run.sh passes the binary cargo built; by hand, the default target dir (or CARGO_TARGET_DIR).
BIN = os.environ.get("CLOUDTWIN_BIN") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "debug", "cloudtwin")

ACCOUNT_1 = "100000000001"
ACCOUNT_2 = "100000000002"
SECRET_ID_1 = "AKIDSDKSUITE000000000000000000000001"
SECRET_KEY_1 = "sdkSuiteSecretKey0000000000000001"
SECRET_ID_2 = "AKIDSDKSUITE000000000000000000000002"
SECRET_KEY_2 = "sdkSuiteSecretKey0000000000000002"
AK_ID_1 = "LTAISDKSUITE00000000001"
AK_SECRET_1 = "sdkSuiteAccessKeySecret000000001"
AK_ID_2 = "LTAISDKSUITE00000000002"
AK_SECRET_2 = "sdkSuiteAccessKeySecret000000002"
ADMIN_TOKEN = "sdk-suite-admin"
REGION = "ap-guangzhou"

# The four request styles the SDK sends (cvm.md §1.2): (sign method, HTTP method).
STYLES = {
    "tc3-post": ("TC3-HMAC-SHA256", "POST"),
    "tc3-get": ("TC3-HMAC-SHA256", "GET"),
    "hmacsha256-get": ("HmacSHA256", "GET"),
    "hmacsha1-post": ("HmacSHA1", "POST"),
}


def config_text(data_dir, ready_after_ms=0, rate_limits=False, task_ms=300, retention_s=604800):
    return f"""listen = "127.0.0.1:0"
data_dir = "{data_dir}"
admin_token = "{ADMIN_TOKEN}"
[[accounts]]
id = "{ACCOUNT_1}"
name = "one"
[accounts.tencent]
app_id = 1300000001
secret_id = "{SECRET_ID_1}"
secret_key = "{SECRET_KEY_1}"
[accounts.aliyun]
access_key_id = "{AK_ID_1}"
access_key_secret = "{AK_SECRET_1}"
[[accounts]]
id = "{ACCOUNT_2}"
name = "two"
[accounts.tencent]
app_id = 1300000002
secret_id = "{SECRET_ID_2}"
secret_key = "{SECRET_KEY_2}"
[accounts.aliyun]
access_key_id = "{AK_ID_2}"
access_key_secret = "{AK_SECRET_2}"
[cvm]
image_ready_after_ms = {ready_after_ms}
[rate_limit]
enabled = {"true" if rate_limits else "false"}
[imm]
task_min_duration_ms = {task_ms}
task_retention_seconds = {retention_s}
"""


# Cluster mode (CLOUDTWIN_SDK_CLUSTER=1): every Server is three nodes over one fresh PostgreSQL
# database (made on the server CLOUDTWIN_TEST_PG_URL names, dropped at close) behind the
# round-robin proxy of rr_proxy.py, which sends each request to the next node in turn.
CLUSTER = os.environ.get("CLOUDTWIN_SDK_CLUSTER") == "1"
PG_URL = os.environ.get("CLOUDTWIN_TEST_PG_URL", "")
NODES = 3
# The settings a node keeps in its own memory: in cluster mode a write goes to every node.
NODE_LOCAL = ("/_cloudtwin/settings", "/_cloudtwin/faults")
# What the nodes are given of the caller's environment: nothing that would change their store,
# address or data dir behind the config the suite wrote.
NODE_ENV = {k: v for k, v in os.environ.items()
             if k not in ("CLOUDTWIN_STORE_URL", "CLOUDTWIN_DATA_DIR", "CLOUDTWIN_LISTEN",
                          "CLOUDTWIN_TLS_LISTEN", "CLOUDTWIN_LOG_FORMAT")}
# Requests per node over every cluster of the session (see pytest_sessionfinish).
SPREAD = [0] * NODES
cluster_only = pytest.mark.skipif(not CLUSTER, reason="cluster mode only (CLOUDTWIN_SDK_CLUSTER=1)")


def not_in_cluster(reason):
    """Skips a test in cluster mode only, for something that cannot hold behind the proxy."""
    return pytest.mark.skipif(CLUSTER, reason=f"cluster mode: {reason}")


def pytest_configure(config):
    if CLUSTER and not PG_URL:
        raise pytest.UsageError("CLOUDTWIN_SDK_CLUSTER=1 needs CLOUDTWIN_TEST_PG_URL "
                                "(a superuser URL, as tests/pg.sh's pg_start exports)")


def psql(sql):
    out = subprocess.run(["psql", PG_URL, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"psql {sql!r}: {out.stderr}"


def url_of_database(name):
    """CLOUDTWIN_TEST_PG_URL with its database replaced by `name`."""
    base, _, query = PG_URL.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


def _first_line(proc, scheme):
    line = proc.stdout.readline()
    m = re.match(rf"cloudtwin listening on {scheme}://(\S+)", line)
    assert m, f"unexpected line {line!r} (exit {proc.poll()})"
    return m.group(1)


class Server:
    """The real binary, started on a config of its own. In cluster mode: three nodes on one
    database behind a round-robin proxy, `endpoint` being the proxy's; `config` is then the
    config the three share, each node's own being it with its data dir, `[store]` and
    `[cluster]` (remade from it at each start, so that a test may edit it and restart).
    tls=True: a TLS listener too (on node 1 in cluster mode), `https` its address.
    together=True (cluster mode): the three nodes are started at once, not node 1 first."""

    def __init__(self, tls=False, together=False, **opts):
        self.tmp = tempfile.mkdtemp(prefix="cloudtwin-sdk-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.config = os.path.join(self.tmp, "config.toml")
        with open(self.config, "w") as f:
            f.write(config_text(self.data_dir, **opts))
        self.tls = tls
        self.together = together
        self.proc = None
        self.procs = []
        self.nodes = []
        self.proxy = None
        self.database = None
        try:
            if CLUSTER:
                self.database = re.sub(r"[^a-z0-9_]", "_", unique("cloudtwin_sdk").lower())
                psql(f'CREATE DATABASE "{self.database}"')
                self.store_url = url_of_database(self.database)
            self.start()
        except BaseException:
            self.close()
            raise

    def _spawn(self, config, tls):
        env = dict(NODE_ENV, CLOUDTWIN_LOG="warn")
        if tls:
            env["CLOUDTWIN_TLS_LISTEN"] = "127.0.0.1:0"
        return subprocess.Popen([BIN, "serve", "--config", config], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, text=True)

    def node_config(self, n):
        """Node n's (1-based) config file, written from `config`."""
        with open(self.config) as f:
            text = f.read()
        node_dir = os.path.join(self.tmp, f"node-{n}")
        text = re.sub(r'(?m)^data_dir = ".*"$', f'data_dir = "{node_dir}"', text, count=1)
        text += f'\n[store]\nbackend = "postgres"\nurl = "{self.store_url}"\n[cluster]\nnode_id = "node-{n}"\n'
        path = os.path.join(self.tmp, f"node-{n}.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self):
        if not CLUSTER:
            self.proc = self._spawn(self.config, self.tls)
            self.procs = [self.proc]
            self.endpoint = _first_line(self.proc, "http")
            if self.tls:
                self.https = _first_line(self.proc, "https")
            return
        # Node 1 first, then the others at once; together=True: all three at once.
        self.procs = [self._spawn(self.node_config(1), self.tls)]
        self.proc = self.procs[0]
        if not self.together:
            nodes = [_first_line(self.proc, "http")]
            if self.tls:
                self.https = _first_line(self.proc, "https")
        self.procs += [self._spawn(self.node_config(n), False) for n in range(2, NODES + 1)]
        if self.together:
            nodes = [_first_line(self.proc, "http")]
            if self.tls:
                self.https = _first_line(self.proc, "https")
        nodes += [_first_line(p, "http") for p in self.procs[1:]]
        self.nodes = nodes
        if self.proxy is None:
            self.proxy = RoundRobinProxy(nodes)
        else:
            self.proxy.set_nodes(nodes)
        self.endpoint = self.proxy.endpoint

    def node_dir(self, n=1):
        """Node n's data dir (the data dir in single-node mode)."""
        return os.path.join(self.tmp, f"node-{n}") if CLUSTER else self.data_dir

    def kill9(self):
        for p in self.procs:
            p.send_signal(signal.SIGKILL)
        for p in self.procs:
            p.wait()

    def terminate(self):
        """SIGTERM to every node; the first non-zero exit status, else 0."""
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=30) for p in self.procs]
        return next((c for c in codes if c != 0), 0)

    def restart(self):
        self.start()

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.proxy is not None:
            for i, n in enumerate(self.proxy.spread()):
                SPREAD[i] += n
            self.proxy.close()
            self.proxy = None
        if self.database:
            try:
                psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            except Exception as e:  # best effort: the private server goes at the end of the run
                print(f"conftest: cannot drop database {self.database}: {e}")
            self.database = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _request(self, endpoint, method, path, body):
        import json
        import urllib.request
        req = urllib.request.Request(f"http://{endpoint}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def admin_nodes(self, method, path, body=None):
        """An admin route on every node directly (the one server in single-node mode); the
        answers, node 1's first."""
        return [self._request(e, method, path, body) for e in (self.nodes if CLUSTER else [self.endpoint])]

    def imm(self, style="v3", ak=AK_ID_1, secret=AK_SECRET_1, language=None):
        """language: sent as Accept-Language (the SDKs send none by default)."""
        from imm_client import Imm
        return Imm(self.endpoint, ak, secret, style, language=language)

    def ingest(self, project, dataset, file, account=ACCOUNT_1, region=None, token=ADMIN_TOKEN):
        """POST /_cloudtwin/imm/faces; returns (status, body)."""
        import json
        import urllib.request
        body = {"AccountId": account, "ProjectName": project, "DatasetName": dataset, "File": file}
        if region:
            body["Region"] = region
        req = urllib.request.Request(f"http://{self.endpoint}/_cloudtwin/imm/faces", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def admin(self, method, path, body=None):
        """An admin route with the token; returns the decoded JSON answer (fails on non-2xx).
        In cluster mode a write to what each node keeps in memory (settings, fault rules) goes
        to every node directly and node 1's answer is returned; a read of them, which would say
        one node's only, is refused (admin_nodes reads every node's); everything else (state,
        seed, reset, import, tasks, ingestion) is in the database and goes through the proxy."""
        if CLUSTER and path.startswith(NODE_LOCAL):
            assert method != "GET", f"cluster mode: GET {path} says one node's; use admin_nodes"
            return self.admin_nodes(method, path, body)[0]
        return self._request(self.endpoint, method, path, body)

    def set_image_state(self, image_id, **body):
        """State control: e.g. set_image_state(id, state="NORMAL")."""
        self.admin("POST", f"/_cloudtwin/cvm/images/{image_id}/state", body)

    def set_ready_after_ms(self, ms):
        """The delay of images created, imported or synced from now on (PUT /_cloudtwin/settings)."""
        for answer in self.admin_nodes("PUT", "/_cloudtwin/settings", {"cvm": {"image_ready_after_ms": ms}}):
            assert answer["cvm"] == {"image_ready_after_ms": ms}

    def client(self, style="tc3-post", secret_id=SECRET_ID_1, secret_key=SECRET_KEY_1, region=REGION,
               language="en-US"):
        sign_method, req_method = STYLES[style]
        hp = HttpProfile(protocol="http", endpoint=self.endpoint, reqMethod=req_method, reqTimeout=30)
        # language=None: the SDK's own default (zh-CN).
        lang = {} if language is None else {"language": language}
        cp = ClientProfile(signMethod=sign_method, httpProfile=hp, **lang)
        return cvm_client.CvmClient(credential.Credential(secret_id, secret_key), region, cp)


@pytest.fixture(scope="module")
def server():
    s = Server(ready_after_ms=0)
    yield s
    s.close()


@pytest.fixture
def fresh_server():
    made = []

    def make(**opts):
        s = Server(**opts)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture(params=list(STYLES))
def style(request):
    return request.param


# How long a test waits for what the server does on its own (a timed transition, a task):
# generous, so that a loaded machine makes a test slow, never wrong.
PATIENCE = 30.0


def timer_start():
    """Read just before the request that starts a server-side timer: whole milliseconds on the
    wall clock, the clock the server keeps its timers by (they outlive a restart). Measuring
    with time.monotonic() instead would let the drift between the two clocks, and the server's
    rounding down to the millisecond, make a correct server look early."""
    return time.time_ns() // 1_000_000


def watch_transition(t0, delay_ms, start, end, read):
    """Polls read() (an image) until its ImageState is `end`, for a timer of delay_ms that started
    no earlier than t0 (timer_start() before the request that started it). An answer received
    (by the same clock) before t0 + delay was computed before the timer ran out, so it must say
    `start`; later answers say `start` or `end`. Returns the image in `end`."""
    while True:
        img = read()
        seen = timer_start() - t0
        if seen < delay_ms:
            assert img.ImageState == start, f"{seen} ms into a {delay_ms} ms timer: {img.ImageState}"
        else:
            assert img.ImageState in (start, end), img.ImageState
        if img.ImageState == end:
            return img
        assert seen < PATIENCE * 1000, f"still {start} after {seen} ms"
        time.sleep(0.02)


_counter = [0]


def unique(prefix):
    _counter[0] += 1
    return f"{prefix}-{os.getpid()}-{_counter[0]}-{int(time.time() * 1000) % 100000}"


# Cluster mode: the proxies of the whole session must have spread the requests over the three
# nodes; a node with less than a fifth of them fails the run (exit status 1, reported in the
# summary). Runs of fewer than 30 requests (a test or two picked by hand) are not judged.
MIN_SHARE = 0.2


def _spread_verdict():
    total = sum(SPREAD)
    shares = ", ".join(f"node-{i + 1} {n} ({n / total:.0%})" for i, n in enumerate(SPREAD)) if total else "none"
    ok = total < 30 or all(n >= MIN_SHARE * total for n in SPREAD)
    return ok, f"cluster mode: {total} requests through the round-robin proxies: {shares}"


def pytest_sessionfinish(session, exitstatus):
    if CLUSTER and not _spread_verdict()[0] and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if CLUSTER:
        ok, line = _spread_verdict()
        terminalreporter.write_line(line if ok else f"FAILED {line}: a node got less than {MIN_SHARE:.0%}")
