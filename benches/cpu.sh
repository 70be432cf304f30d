#!/usr/bin/env bash
# CPU per request of the server and of the load client: runs `cloudtwin-bench profile
# <describe|query|modify>` (16 connections on a small store) and reads both processes' CPU
# ticks from /proc/<pid>/stat over 8 seconds of the load.
#
#   bash benches/cpu.sh describe
#
# Needs the release build (cargo build --release --workspace). Divide the ticks (1/100 s)
# by the requests answered in the 8 s (req/s × 8) for the CPU per request.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-describe}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
source benches/load.sh
start_load "$what" 20 "$log"
sleep 4
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
s0=$(ticks "$pid"); b0=$(ticks "$bench_pid")
sleep 8
s1=$(ticks "$pid"); b1=$(ticks "$bench_pid")
wait "$bench_pid" || true
echo "server ticks $((s1 - s0)), load client ticks $((b1 - b0)) over 8 s (100 ticks/s)"
grep req/s "$log" | tail -1
