"""The pytest plugin of cloudtwin (entry point `pytest11`: loaded whenever the wheel is
installed).

The fixture `cloudtwin` is a `cloudtwin.Server`: one server per session, started on first use
on a free port with a temporary data dir, stopped (SIGTERM by its pid) at the end of the
session. Its state is reset (`POST /_cloudtwin/reset`) before each test by default; choose
with `--cloudtwin-reset` or the ini key `cloudtwin_reset`:

- `function` (default): before every test that uses the fixture;
- `module`: before the first such test of each module;
- `session`: once, before the first such test of the session (what `cloudtwin_server` did
  before it stays out);
- `never`: never: the tests share one state, as it grows.

`--cloudtwin-bin` (ini `cloudtwin_bin`) names the binary; else `$CLOUDTWIN_BIN`, else the one
the wheel installed.
"""
import pytest

import cloudtwin as _cloudtwin

RESET_MODES = ("function", "module", "session", "never")


def pytest_addoption(parser):
    group = parser.getgroup("cloudtwin")
    group.addoption("--cloudtwin-reset", choices=RESET_MODES, default=None,
                    help="when the fixture `cloudtwin` resets the server's state "
                         "(default: function; ini: cloudtwin_reset)")
    group.addoption("--cloudtwin-bin", default=None,
                    help="the cloudtwin binary (default: $CLOUDTWIN_BIN, else the wheel's)")
    parser.addini("cloudtwin_reset", "when the fixture `cloudtwin` resets the state: "
                  + "|".join(RESET_MODES), default="function")
    parser.addini("cloudtwin_bin", "the cloudtwin binary", default="")


class _Holder:
    """The session's server, started lazily, and what was last reset."""

    def __init__(self, config):
        self.config = config
        self.server = None
        self.last_module = None
        self.reset_once = False

    @property
    def mode(self):
        mode = self.config.getoption("cloudtwin_reset") or self.config.getini("cloudtwin_reset")
        if mode not in RESET_MODES:
            raise pytest.UsageError(f"cloudtwin_reset must be one of {', '.join(RESET_MODES)}, "
                                    f"not {mode!r}")
        return mode

    def get(self):
        if self.server is None:
            bin_ = self.config.getoption("cloudtwin_bin") or self.config.getini("cloudtwin_bin")
            self.server = _cloudtwin.Server(bin=bin_ or None)
        return self.server

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None


_KEY = pytest.StashKey[_Holder]() if hasattr(pytest, "StashKey") else None


def _holder(config):
    if _KEY is not None:
        if _KEY not in config.stash:
            config.stash[_KEY] = _Holder(config)
        return config.stash[_KEY]
    if not hasattr(config, "_cloudtwin_holder"):
        config._cloudtwin_holder = _Holder(config)
    return config._cloudtwin_holder


@pytest.fixture(scope="session")
def cloudtwin_server(pytestconfig):
    """The session's `cloudtwin.Server` itself (no reset)."""
    holder = _holder(pytestconfig)
    yield holder.get()
    holder.stop()


@pytest.fixture
def cloudtwin(request, cloudtwin_server):
    """The session's `cloudtwin.Server`, its state reset as `--cloudtwin-reset` says."""
    holder = _holder(request.config)
    mode = holder.mode
    module = getattr(getattr(request.node, "module", None), "__name__", None)
    if (mode == "function" or (mode == "module" and module != holder.last_module)
            or (mode == "session" and not holder.reset_once)):
        cloudtwin_server.reset()
        holder.reset_once = True
    holder.last_module = module
    return cloudtwin_server


def pytest_unconfigure(config):
    # A backstop: the fixture's teardown has already stopped it at the session's end.
    _holder(config).stop()
