# Sourced by benches/profile.sh and benches/cpu.sh: `start_load WHAT SECONDS LOG` starts
# `cloudtwin-bench profile WHAT` for SECONDS in the background, its output in LOG, and waits
# until it prints the server's pid; then `bench_pid` is the bench's pid and `pid` the server's.
start_load() {
  local bench=${CARGO_TARGET_DIR:-target}/release/cloudtwin-bench
  "$bench" profile "$1" --seconds "$2" >"$3" 2>&1 &
  bench_pid=$!
  for _ in $(seq 1 120); do
    grep -q "server pid" "$3" && break
    sleep 0.5
  done
  pid=$(grep -o "server pid [0-9]*" "$3" | awk '{print $3}')
}
