"""The official clients over HTTPS, against a second cloudtwin started with its TLS listener on
(`CLOUDTWIN_TLS_LISTEN=127.0.0.1:0`, `--ephemeral`): which setting or environment variable makes
each SDK trust the generated CA (`DATA_DIR/tls/ca.pem`), with each SDK's default protocol
(https). Every call runs in a fresh Python process with an environment of the test's own, so an
environment variable is proven to work (or not) on its own, with no state cached by an earlier
call (darabonba keeps one TLS context per host for the whole process).

In cluster mode (CLOUDTWIN_SDK_CLUSTER=1) the second cloudtwin is a cluster of the suite's own
(conftest.Server): the TLS listener and its CA are node 1's, the plain address is the
round-robin proxy's, so what is written over one is read over the other through other nodes.

Found (docs/configuration.md, "TLS"):
- tencentcloud-sdk-python: `HttpProfile(certification=CA)`. It passes `verify=certifi.where()` to
  requests itself, so neither `REQUESTS_CA_BUNDLE` nor `SSL_CERT_FILE` is honoured.
- alibabacloud-tea-openapi (alibabacloud-imm20200930): `Config(ca=CA)` or `RuntimeOptions(ca=CA)`;
  or `SSL_CERT_FILE=CA` (its TLS context starts from `ssl.create_default_context()`, which OpenSSL
  fills from `SSL_CERT_FILE`); `REQUESTS_CA_BUNDLE` is not honoured (it calls `Session.send`).
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from conftest import NODE_ENV, AK_ID_1, AK_SECRET_1, BIN, CLUSTER, SECRET_ID_1, SECRET_KEY_1, Server, config_text

# Variables that would change which CAs a client trusts: removed from every call's environment.
TRUST_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
              "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")

TENCENT = r"""
import sys
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models
endpoint, sid, skey, ca = sys.argv[1:5]
# No protocol: the SDK's default, https.
hp = HttpProfile(endpoint=endpoint, reqTimeout=30, certification=ca or None)
assert hp.scheme == "https", hp.scheme
c = cvm_client.CvmClient(credential.Credential(sid, skey), "ap-guangzhou", ClientProfile(httpProfile=hp))
try:
    r = c.DescribeImages(models.DescribeImagesRequest())
    print("ok", r.TotalCount)
except Exception as e:
    print("error", type(e).__name__, str(e).replace("\n", " ")[:300])
"""

TEA = r"""
import sys
from alibabacloud_imm20200930 import models
from alibabacloud_imm20200930.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.runtime import RuntimeOptions
endpoint, ak, secret, config_ca, runtime_ca = sys.argv[1:6]
# No protocol: the SDK's default for IMM, HTTPS.
cfg = open_api_models.Config(access_key_id=ak, access_key_secret=secret, endpoint=endpoint,
                             read_timeout=30000, connect_timeout=30000, ca=config_ca or None)
try:
    r = Client(cfg).list_projects_with_options(models.ListProjectsRequest(),
                                               RuntimeOptions(ca=runtime_ca or None, autoretry=False))
    print("ok", r.status_code, len(r.body.projects or []))
except Exception as e:
    print("error", type(e).__name__, str(e).replace("\n", " ")[:300])
"""


class TlsServer:
    """A cloudtwin with its TLS listener on a free port, on an ephemeral data dir; in cluster
    mode, three nodes on a database of their own, node 1 with the TLS listener."""

    def __init__(self):
        self.cluster = None
        if CLUSTER:
            self.cluster = Server(tls=True)
            self.http, self.https = self.cluster.endpoint, self.cluster.https
            self.ca = os.path.join(self.cluster.node_dir(1), "tls", "ca.pem")
            assert os.path.isfile(self.ca), self.ca
            return
        self.tmp = tempfile.mkdtemp(prefix="cloudtwin-sdk-tls-")
        self.config = os.path.join(self.tmp, "config.toml")
        with open(self.config, "w") as f:
            f.write(config_text(os.path.join(self.tmp, "unused")))
        env = dict(NODE_ENV, CLOUDTWIN_LOG="warn", CLOUDTWIN_TLS_LISTEN="127.0.0.1:0", TMPDIR=self.tmp)
        self.proc = subprocess.Popen([BIN, "serve", "--ephemeral", "--config", self.config],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        first, second = self.proc.stdout.readline(), self.proc.stdout.readline()
        m = re.match(r"cloudtwin listening on http://(\S+)", first)
        assert m, f"unexpected first line {first!r}"
        self.http = m.group(1)
        m = re.match(r"cloudtwin listening on https://(\S+)", second)
        assert m, f"unexpected second line {second!r}"
        self.https = m.group(1)
        # --ephemeral: the data dir (and so tls/ca.pem) is under TMPDIR.
        cas = glob.glob(os.path.join(self.tmp, "cloudtwin-ephemeral-*", "tls", "ca.pem"))
        assert len(cas) == 1, cas
        self.ca = cas[0]

    def stop(self):
        if self.cluster is not None:
            try:
                assert self.cluster.terminate() == 0
            finally:
                self.cluster.close()
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            assert self.proc.wait(timeout=30) == 0
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_server():
    s = TlsServer()
    yield s
    s.stop()


def run(script, args, **env):
    """Runs `script` in a fresh interpreter with `env` over a base with no trust variables;
    returns its one line of output."""
    base = {k: v for k, v in os.environ.items() if k not in TRUST_VARS}
    out = subprocess.run([sys.executable, "-c", script, *args], env=dict(base, **env),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def tencent(s, ca="", **env):
    return run(TENCENT, [s.https, SECRET_ID_1, SECRET_KEY_1, ca], **env)


def tea(s, config_ca="", runtime_ca="", **env):
    return run(TEA, [s.https, AK_ID_1, AK_SECRET_1, config_ca, runtime_ca], **env)


def test_tencent_sdk_trusts_the_ca_through_http_profile_certification(tls_server):
    out = tencent(tls_server, ca=tls_server.ca)
    assert out.startswith("ok "), out


def test_tencent_sdk_ignores_requests_ca_bundle_and_ssl_cert_file(tls_server):
    out = tencent(tls_server)
    assert "CERTIFICATE_VERIFY_FAILED" in out, f"an untrusted certificate must fail: {out}"
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        out = tencent(tls_server, **{var: tls_server.ca})
        assert "CERTIFICATE_VERIFY_FAILED" in out, f"{var}: {out}"


def test_tea_sdk_trusts_the_ca_through_config_or_runtime_ca(tls_server):
    out = tea(tls_server, config_ca=tls_server.ca)
    assert out.startswith("ok 200"), out
    out = tea(tls_server, runtime_ca=tls_server.ca)
    assert out.startswith("ok 200"), out


def test_tea_sdk_trusts_ssl_cert_file_but_not_requests_ca_bundle(tls_server):
    out = tea(tls_server)
    assert "CERTIFICATE_VERIFY_FAILED" in out, f"an untrusted certificate must fail: {out}"
    out = tea(tls_server, SSL_CERT_FILE=tls_server.ca)
    assert out.startswith("ok 200"), out
    out = tea(tls_server, REQUESTS_CA_BUNDLE=tls_server.ca)
    assert "CERTIFICATE_VERIFY_FAILED" in out, out


def test_the_same_calls_over_plain_http_still_answer(tls_server):
    # The plain listener of the same process, as the rest of the suite uses it (in cluster
    # mode: the proxy in front of the same nodes).
    out = run(TENCENT.replace('hp = HttpProfile(endpoint', 'hp = HttpProfile(protocol="http", endpoint')
              .replace('assert hp.scheme == "https", hp.scheme', ''),
              [tls_server.http, SECRET_ID_1, SECRET_KEY_1, ""])
    assert out.startswith("ok "), out
