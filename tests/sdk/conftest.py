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


class Server:
    """The real binary, started on a config of its own."""

    def __init__(self, **opts):
        self.tmp = tempfile.mkdtemp(prefix="cloudtwin-sdk-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.config = os.path.join(self.tmp, "config.toml")
        with open(self.config, "w") as f:
            f.write(config_text(self.data_dir, **opts))
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", self.config],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, CLOUDTWIN_LOG="warn"),
            text=True,
        )
        line = self.proc.stdout.readline()
        m = re.match(r"cloudtwin listening on http://(\S+)", line)
        assert m, f"unexpected first line {line!r}"
        self.endpoint = m.group(1)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def restart(self):
        self.start()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

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
        """An admin route with the token; returns the decoded JSON answer (fails on non-2xx)."""
        import json
        import urllib.request
        req = urllib.request.Request(f"http://{self.endpoint}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def set_image_state(self, image_id, **body):
        """State control: e.g. set_image_state(id, state="NORMAL")."""
        self.admin("POST", f"/_cloudtwin/cvm/images/{image_id}/state", body)

    def set_ready_after_ms(self, ms):
        """The delay of images created, imported or synced from now on (PUT /_cloudtwin/settings)."""
        assert self.admin("PUT", "/_cloudtwin/settings", {"cvm": {"image_ready_after_ms": ms}})["cvm"] == \
            {"image_ready_after_ms": ms}

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


def watch_transition(t0, delay_ms, start, end, read):
    """Polls read() (an image) until its ImageState is `end`, for a timer of delay_ms that started
    no earlier than t0 (time.monotonic() before the request that started it). An answer received
    before t0 + delay was computed before the timer ran out, so it must say `start`; later answers
    say `start` or `end`. Returns the image in `end`."""
    while True:
        img = read()
        seen = time.monotonic() - t0
        if seen < delay_ms / 1000:
            assert img.ImageState == start, f"{seen:.3f} s into a {delay_ms} ms timer: {img.ImageState}"
        else:
            assert img.ImageState in (start, end), img.ImageState
        if img.ImageState == end:
            return img
        assert seen < PATIENCE, f"still {start} after {seen:.1f} s"
        time.sleep(0.02)


_counter = [0]


def unique(prefix):
    _counter[0] += 1
    return f"{prefix}-{os.getpid()}-{_counter[0]}-{int(time.time() * 1000) % 100000}"
