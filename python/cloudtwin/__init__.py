"""cloudtwin from Python: start the `cloudtwin` binary that this wheel installed on a free port
with a temporary data dir, and talk to it with the official SDKs.

    import cloudtwin

    with cloudtwin.Server() as twin:
        client = twin.cvm()          # tencentcloud CvmClient, signed with account 0's keys
        ...

The pytest plugin (`cloudtwin.pytest_plugin`, registered through the `pytest11` entry point)
gives the same object as the fixture `cloudtwin`. No runtime dependency: each client needs its
SDK (`tencentcloud-sdk-python-cvm`, `alibabacloud-imm20200930`, `aliyun-python-sdk-core`).
"""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.request

__all__ = ["Account", "Server", "ServerError", "find_binary", "ACCOUNTS"]


class Account:
    """One account of the server: its id and both clouds' credentials."""

    def __init__(self, id, name, app_id, secret_id, secret_key, access_key_id, access_key_secret):
        self.id = id
        self.name = name
        self.app_id = app_id
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret

    def __repr__(self):
        return f"Account(id={self.id!r}, name={self.name!r})"


# The two accounts of the repository's config.toml (README.md, "Credentials").
ACCOUNTS = (
    Account("100000000001", "default", 1300000001, "AKIDCLOUDTWIN00000000000000000000001",
            "cloudtwinSecretKey000000000000001", "LTAICLOUDTWIN0000000001",
            "cloudtwinAccessKeySecret00000001"),
    Account("100000000002", "second", 1300000002, "AKIDCLOUDTWIN00000000000000000000002",
            "cloudtwinSecretKey000000000000002", "LTAICLOUDTWIN0000000002",
            "cloudtwinAccessKeySecret00000002"),
)


class ServerError(RuntimeError):
    """The server did not start, or an admin route answered with an error."""


def find_binary(explicit=None):
    """The `cloudtwin` binary: `explicit`, else `$CLOUDTWIN_BIN`, else the script this wheel
    installed next to the interpreter, else `cloudtwin` on PATH."""
    for candidate in (explicit, os.environ.get("CLOUDTWIN_BIN")):
        if candidate:
            if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
                raise ServerError(f"cloudtwin binary {candidate!r} is not an executable file")
            return candidate
    name = "cloudtwin.exe" if os.name == "nt" else "cloudtwin"
    scripts = sysconfig.get_path("scripts")
    if scripts:
        path = os.path.join(scripts, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    path = shutil.which("cloudtwin")
    if path:
        return path
    raise ServerError("no cloudtwin binary: install the cloudtwin wheel, put `cloudtwin` on PATH "
                      "(cargo install --locked --path .) or set CLOUDTWIN_BIN")


def _toml_str(value):
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _config_text(data_dir, accounts, admin_token, image_ready_after_ms, rate_limit):
    # data_dir is required; `serve --ephemeral` replaces it with a fresh dir of its own.
    lines = ['listen = "127.0.0.1:0"', f"data_dir = {_toml_str(data_dir)}",
             f"admin_token = {_toml_str(admin_token)}"]
    for a in accounts:
        lines += ["[[accounts]]", f"id = {_toml_str(a.id)}", f"name = {_toml_str(a.name)}",
                  "[accounts.tencent]", f"app_id = {int(a.app_id)}",
                  f"secret_id = {_toml_str(a.secret_id)}", f"secret_key = {_toml_str(a.secret_key)}",
                  "[accounts.aliyun]", f"access_key_id = {_toml_str(a.access_key_id)}",
                  f"access_key_secret = {_toml_str(a.access_key_secret)}"]
    lines += ["[cvm]", f"image_ready_after_ms = {int(image_ready_after_ms)}",
              "[rate_limit]", f"enabled = {'true' if rate_limit else 'false'}"]
    return "\n".join(lines) + "\n"


def _accounts_of(config_path):
    """The accounts of a user's config file (needs tomllib, Python 3.11+; else none)."""
    try:
        import tomllib
    except ImportError:
        return [], None
    with open(config_path, "rb") as f:
        doc = tomllib.load(f)
    accounts = []
    for a in doc.get("accounts", []):
        t, y = a.get("tencent", {}), a.get("aliyun", {})
        accounts.append(Account(a.get("id"), a.get("name"), t.get("app_id"), t.get("secret_id"),
                                t.get("secret_key"), y.get("access_key_id"),
                                y.get("access_key_secret")))
    return accounts, doc.get("admin_token")


def _need(module, package, what):
    raise ImportError(f"cloudtwin: {what} needs the official SDK module {module!r}: "
                      f"pip install {package}")


class Server:
    """The `cloudtwin` binary, serving on a free port of 127.0.0.1 over a temporary data dir
    (`serve --ephemeral`), until `stop()` (or the end of the `with` block).

    `config`: a config file of your own to serve with instead of the generated one (its `listen`
    should be `127.0.0.1:0`; its accounts and admin token are read with tomllib on Python 3.11+,
    else pass `admin_token=`). Settings of the generated config:
      - `accounts`: a list of `Account` (default: the two of the repository's config.toml);
      - `admin_token`: the token of the `/_cloudtwin/` routes (default: a random one);
      - `image_ready_after_ms`: delay before a new image is NORMAL (default 0);
      - `rate_limit`: keep the per-action rate limits on (default False).
    Other settings: `bin` (the binary; default `find_binary()`), `env` (extra environment of the
    process), `start_timeout` (seconds, default 30), `start` (default True: start at once).
    """

    def __init__(self, config=None, **settings):
        unknown = set(settings) - {"accounts", "admin_token", "image_ready_after_ms", "rate_limit",
                                   "bin", "env", "start_timeout", "start"}
        if unknown:
            raise TypeError(f"cloudtwin.Server: unknown settings {sorted(unknown)}")
        self.bin = find_binary(settings.get("bin"))
        self._env = dict(settings.get("env") or {})
        self._start_timeout = settings.get("start_timeout", 30)
        self._tmp = None
        self.proc = None
        self.endpoint = None
        if config is not None:
            self.config_path = os.path.abspath(os.fspath(config))
            accounts, token = _accounts_of(self.config_path)
            self.accounts = list(settings.get("accounts") or accounts)
            self.admin_token = settings.get("admin_token") or token
            self._generated = None
        else:
            self.config_path = None
            self.accounts = list(settings.get("accounts") or ACCOUNTS)
            self.admin_token = settings.get("admin_token") or "cloudtwin-" + secrets.token_hex(16)
            self._generated = (settings.get("image_ready_after_ms", 0),
                               settings.get("rate_limit", False))
        if settings.get("start", True):
            self.start()

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def url(self):
        return f"http://{self.endpoint}" if self.endpoint else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if self.running:
            return self
        self._tmp = tempfile.mkdtemp(prefix="cloudtwin-py-")
        if self._generated is not None:
            self.config_path = os.path.join(self._tmp, "config.toml")
            with open(self.config_path, "w") as f:
                f.write(_config_text(os.path.join(self._tmp, "data"), self.accounts,
                                     self.admin_token, *self._generated))
        self._log_path = os.path.join(self._tmp, "server.log")
        log = open(self._log_path, "wb")
        # TMPDIR: the ephemeral data dir is made inside our temp dir, so that it goes with it
        # even after a kill.
        env = dict(os.environ, CLOUDTWIN_LOG="warn", TMPDIR=self._tmp)
        env.update(self._env)
        try:
            self.proc = subprocess.Popen(
                [self.bin, "serve", "--ephemeral", "--config", self.config_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env)
        finally:
            log.close()
        line = self._first_line()
        m = re.match(rb"cloudtwin listening on http://(\S+)", line or b"")
        if not m:
            self._kill()
            log_tail = self._log_tail()
            self._cleanup()
            raise ServerError(f"cloudtwin did not start (first line {line!r}); its log:\n"
                              + log_tail)
        self.endpoint = m.group(1).decode()
        # Anything the server prints later is read and dropped, so that it never blocks on a
        # full pipe.
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        return self

    def _first_line(self):
        box = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(self._start_timeout)
        return box[0] if box else None

    @staticmethod
    def _drain(stream):
        try:
            while stream.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def _log_tail(self):
        try:
            with open(self._log_path, "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _cleanup(self):
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def stop(self, timeout=15):
        """SIGTERM to the server's pid (a graceful shutdown), wait; SIGKILL if it hangs.
        Returns the exit status (None when it was not running)."""
        if self.proc is None:
            return None
        status = self.proc.poll()
        if status is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                status = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                status = self.proc.wait()
        self._cleanup()
        return status

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return f"cloudtwin.Server(endpoint={self.endpoint!r}, pid={self.pid})"

    # --- admin routes ----------------------------------------------------------------------

    def admin(self, method, path, body=None):
        """A `/_cloudtwin/` route with the admin token; the decoded JSON answer (None when
        empty). Raises ServerError on a non-2xx answer."""
        if not path.startswith("/"):
            path = "/_cloudtwin/" + path
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise ServerError(f"{method} {path}: HTTP {e.code}: {e.read()[:2000]!r}") from None
        return json.loads(raw) if raw.strip() else None

    def reset(self):
        """Every account's state back to empty (`POST /_cloudtwin/reset {}`)."""
        return self.admin("POST", "/_cloudtwin/reset", {})

    def health(self):
        return self.admin("GET", "/_cloudtwin/health")

    # --- official SDK clients --------------------------------------------------------------

    def account(self, account=0):
        """An `Account` by index or by account id."""
        if isinstance(account, Account):
            return account
        if isinstance(account, int):
            return self.accounts[account]
        for a in self.accounts:
            if a.id == str(account):
                return a
        raise KeyError(f"no account {account!r}")

    def cvm(self, region="ap-guangzhou", account=0, **http_profile):
        """A `tencentcloud.cvm.v20170312.cvm_client.CvmClient` for this server (http)."""
        try:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.cvm.v20170312 import cvm_client
        except ImportError:
            _need("tencentcloud.cvm", "tencentcloud-sdk-python-cvm", "Server.cvm()")
        a = self.account(account)
        hp = HttpProfile(protocol="http", endpoint=self.endpoint, **http_profile)
        cred = credential.Credential(a.secret_id, a.secret_key)
        return cvm_client.CvmClient(cred, region, ClientProfile(httpProfile=hp))

    def imm(self, account=0, region="cn-hangzhou", **config):
        """An `alibabacloud_imm20200930.client.Client` (the Tea SDK) for this server (http)."""
        try:
            from alibabacloud_imm20200930.client import Client
            from alibabacloud_tea_openapi import models as open_api_models
        except ImportError:
            _need("alibabacloud_imm20200930", "alibabacloud-imm20200930", "Server.imm()")
        a = self.account(account)
        cfg = open_api_models.Config(access_key_id=a.access_key_id,
                                     access_key_secret=a.access_key_secret,
                                     endpoint=self.endpoint, protocol="http", region_id=region,
                                     **config)
        return Client(cfg)

    def legacy(self, account=0, region="cn-hangzhou"):
        """An `aliyunsdkcore.client.AcsClient` (the legacy SDK) whose IMM requests (and
        CommonRequests with `product="imm"`) go to this server over http."""
        try:
            from aliyunsdkcore.client import AcsClient
        except ImportError:
            _need("aliyunsdkcore", "aliyun-python-sdk-core", "Server.legacy()")
        a = self.account(account)
        client = AcsClient(a.access_key_id, a.access_key_secret, region, auto_retry=False,
                           timeout=30)
        for product in ("imm", "ram", "sts"):
            client.add_endpoint(region, product, self.endpoint)
        return client
