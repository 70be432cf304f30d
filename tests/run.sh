#!/usr/bin/env bash
# Runs every test of cloudtwin: the Rust unit and integration tests (cargo-nextest when it is
# installed, else cargo test), then the Node.js SDK suite (tests/node, `npm ci` + `node --test`),
# then the web console in headless Chromium (tests/console, installing Debian's chromium when it
# is missing), then the official-client suite (tencentcloud-sdk-python and tccli, pinned in
# tests/sdk/requirements.txt) in a venv this script makes, against the real binary. Needs only
# Rust, Node.js 20+ with npm, and Python 3 with venv/pip. Honours CARGO_TARGET_DIR (and any other
# cargo setting): the binary's path comes from cargo, not from a guess.
#
# The output ends with the summary line of the last runner that ran: nextest's (or cargo
# test's) when the Rust suite fails, node's when the Node.js or the console suite fails, else
# pytest's. The exit status is non-zero if any test failed or if pytest collected nothing (its
# exit 5 is turned into a failure, never a pass).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --workspace --all-targets --locked

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BIN="$TARGET_DIR/debug/cloudtwin"
if [ ! -x "$BIN" ]; then
  echo "tests/run.sh: cargo built no binary at $BIN" >&2
  exit 1
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

# The official Node.js SDKs (pinned in tests/node/package-lock.json), installed from the npm
# registry into tests/node/node_modules, against the real binary (tests/node/run.mjs).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "tests/run.sh: the Node.js SDK suite needs node (20 or later) and npm" >&2
  exit 1
fi
(cd tests/node && npm ci --no-audit --no-fund --silent)
CLOUDTWIN_BIN="$BIN" node --test tests/node/run.mjs

# The web console in Debian's headless Chromium (never a downloaded browser), driven by
# playwright-core (pinned in tests/console/package-lock.json), against the real binary
# (tests/console/run.mjs).
if [ ! -x /usr/bin/chromium ]; then
  SUDO=
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
(cd tests/console && npm ci --no-audit --no-fund --silent)
CLOUDTWIN_BIN="$BIN" node --test tests/console/run.mjs

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt

# No ini file from above the repository and no PYTEST_ADDOPTS from the caller's shell can
# deselect the suite: pytest runs on exactly tests/sdk.
status=0
env -u PYTEST_ADDOPTS CLOUDTWIN_BIN="$BIN" .venv/bin/python -m pytest tests/sdk -q \
  -p no:cacheprovider -c /dev/null --rootdir tests/sdk || status=$?
if [ "$status" -eq 5 ]; then
  echo "tests/run.sh: pytest collected no tests from tests/sdk" >&2
  exit 1
fi
exit "$status"
