#!/usr/bin/env bash
# Runs every test of cloudtwin: the Rust unit and integration tests (cargo-nextest when it is
# installed, else cargo test), then the official-client suite (tencentcloud-sdk-python and
# tccli, pinned in tests/sdk/requirements.txt) in a venv this script makes, against the real
# binary. Needs only Rust and Python 3 with venv/pip.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --workspace --all-targets --locked

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt

CLOUDTWIN_BIN="$PWD/target/debug/cloudtwin" .venv/bin/python -m pytest tests/sdk -q -p no:cacheprovider
