#!/usr/bin/env bash
# Runs every test of cloudtwin: the Rust unit and integration tests (cargo-nextest when it is
# installed, else cargo test), then the Node.js SDK suite (tests/node, `npm ci` + `node --test`),
# then the web console in headless Chromium (tests/console, installing Debian's chromium when it
# is missing), then the Python wheel (python/pyproject.toml, maturin pinned in
# tests/wheel/requirements.txt, built with the dev profile over the binary cargo just built)
# installed into a fresh venv (.venv-wheel) and the pytest project tests/wheel/project, which
# uses only the wheel's plugin and cloudtwin.Server, then the official-client suite
# (tencentcloud-sdk-python and tccli, pinned in tests/sdk/requirements.txt) in a venv this
# script makes, against the real binary, then again in cluster mode (three nodes over one
# PostgreSQL database behind a round-robin proxy, tests/sdk/rr_proxy.py). Needs only Rust,
# Node.js 20+ with npm, and Python 3 with venv/pip. Honours CARGO_TARGET_DIR (and any other
# cargo setting): the binary's path comes from cargo, not from a guess.
#
# The output ends with the summary line of the last runner that ran: nextest's (or cargo
# test's) when the Rust suite fails, node's when the Node.js or the console suite fails, the
# wheel project's pytest summary when it fails, else the official-client suite's pytest
# summary (its single-node run's when that fails, else its cluster-mode run's). The exit
# status is non-zero if any test failed or if pytest collected nothing (its exit 5 is turned
# into a failure, never a pass).
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

# A private PostgreSQL (Debian's packages, installed when missing) in a temp dir on a free
# port, for the PostgreSQL engine's tests and the cluster tests; stopped at exit.
# shellcheck source=tests/pg.sh
source tests/pg.sh
pg_start
cleanup() {
  pg_stop
  rm -rf "${WHEEL_DIR:-}"
}
trap cleanup EXIT

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
# Again against three nodes over one fresh database of the private PostgreSQL, behind the
# round-robin proxy of tests/sdk/rr_proxy.py (each request to the next node in turn).
CLOUDTWIN_NODE_CLUSTER=1 CLOUDTWIN_BIN="$BIN" node --test tests/node/run.mjs

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
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt \
  -r tests/wheel/requirements.txt

# The wheel: built with the dev profile (it reuses the debug binary above), installed with pip
# into a venv made afresh each run, with pytest and the three official SDKs its clients use
# (versions of tests/sdk/requirements.txt); then a pytest project that uses only the plugin.
# No CLOUDTWIN_BIN here: the package must find the binary the wheel installed.
WHEEL_DIR=$(mktemp -d)
start=$SECONDS
(cd python && ../.venv/bin/maturin build --quiet --locked --profile dev --out "$WHEEL_DIR")
WHEEL=$(ls "$WHEEL_DIR"/cloudtwin-*.whl)
rm -rf .venv-wheel
"$PYTHON" -m venv .venv-wheel
.venv-wheel/bin/python -m pip install --quiet --disable-pip-version-check "$WHEEL" pytest \
  tencentcloud-sdk-python-cvm alibabacloud-imm20200930 aliyun-python-sdk-core \
  --constraint tests/sdk/requirements.txt
echo "tests/run.sh: wheel $(basename "$WHEEL") built and installed in $((SECONDS - start))s"
wheel_status=0
env -u PYTEST_ADDOPTS -u CLOUDTWIN_BIN .venv-wheel/bin/python -m pytest tests/wheel/project -q \
  -p no:cacheprovider -c /dev/null --rootdir tests/wheel/project || wheel_status=$?
if [ "$wheel_status" -eq 5 ]; then
  echo "tests/run.sh: pytest collected no tests from tests/wheel/project" >&2
  exit 1
elif [ "$wheel_status" -ne 0 ]; then
  exit "$wheel_status"
fi

# No ini file from above the repository and no PYTEST_ADDOPTS from the caller's shell can
# deselect the suite: pytest runs on exactly tests/sdk. It runs twice: against one node, then
# in cluster mode (CLOUDTWIN_SDK_CLUSTER=1, tests/sdk/conftest.py): each server of the suite is
# three nodes over one fresh database of the private PostgreSQL, behind the round-robin proxy
# of tests/sdk/rr_proxy.py, which sends each request to the next node in turn.
sdk_suite() {
  local status=0
  env -u PYTEST_ADDOPTS -u CLOUDTWIN_STORE_URL CLOUDTWIN_BIN="$BIN" CLOUDTWIN_SDK_CLUSTER="$1" \
    .venv/bin/python -m pytest tests/sdk -q -p no:cacheprovider -c /dev/null --rootdir tests/sdk \
    "${@:2}" || status=$?
  if [ "$status" -eq 5 ]; then
    echo "tests/run.sh: pytest collected no tests from tests/sdk" >&2
    status=1
  fi
  return "$status"
}
status=0
sdk_suite 0 || status=$?
if [ "$status" -ne 0 ]; then
  exit "$status"
fi
# -rs: the reasons of the tests skipped in cluster mode, above the summary line.
sdk_suite 1 -rs || status=$?
exit "$status"
