#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: `bash fuzz/run.sh [SECONDS_PER_TARGET]` (60 by
# default), or name some targets after the seconds: `bash fuzz/run.sh 30 rfc3339`.
#
# cargo-fuzz drives libFuzzer, which needs unstable compiler flags. A stable toolchain accepts
# them with RUSTC_BOOTSTRAP=1, so no nightly is needed; cargo-fuzz itself comes from crates.io
# (`cargo install cargo-fuzz --locked`) if it is not there. Each target reads its seeds from
# fuzz/seeds/<target> and keeps what it learns in fuzz/corpus/<target>; a crash is written to
# fuzz/artifacts/<target>/ and the next target still runs. Exits non-zero if any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(tencent_params_pairs tencent_params_json aliyun_params tc3_authorization acs3_authorization rfc3339)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked || exit 1
fi

export RUSTC_BOOTSTRAP=1
failed=()
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "== fuzz $t for ${SECONDS_PER_TARGET}s"
  # -rss_limit_mb: the decoders hold one request in memory; a runaway is a finding too.
  if ! cargo fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#TARGETS[@]} targets failed: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without a crash"
