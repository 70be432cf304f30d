#!/usr/bin/env bash
# Where a request's time goes: runs `cloudtwin-bench profile <describe|query|modify>` (one load
# of 16 connections on a small store), samples the server with perf (DWARF call graphs) and
# prints the share of the server's CPU samples under each stage of the request path.
#
#   bash benches/profile.sh describe [SECONDS]
#
# Needs perf (apt-get install linux-perf) and the release build (cargo build --release
# --workspace; the release profile keeps debug info). A stage's share is the largest
# "children" share among its functions (perf counts a sample once per enclosing frame, so the
# outermost function of a stage holds all of it); stages nest in places (rendering runs inside
# the action), so the shares do not add up to 100.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-describe}
secs=${2:-8}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
source benches/load.sh
start_load "$what" $((secs + 12)) "$out/bench.log"
sleep 3
perf record -q -F 499 --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep "$secs" 2>/dev/null
wait "$bench_pid" || true
grep -E "req/s" "$out/bench.log" | tail -1
perf report -i "$out/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
  grep '%' >"$out/report.txt"
python3 - "$out/report.txt" <<'EOF'
import re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[.\]\s+(.*)", line)
    if m:
        rows.append((float(m.group(1)), float(m.group(2)), re.sub(r"\s+-\s+-\s*$", "", m.group(3)).strip()))
stages = [
    ("HTTP/1.1 parsing and writing (hyper)", [r"Http1Transaction>::parse", r"Http1Transaction>::encode"]),
    ("socket writes (kernel, with loopback delivery)", [r"__GI___writev", r"__libc_write"]),
    ("socket reads (kernel)", [r"__libc_recv", r"__GI___libc_read"]),
    ("the pipeline, all stages", [r"dialect::pipeline::handle::"]),
    ("signature check (verify)", [r"tencent::verify::verify$", r"aliyun::verify::verify$", r"verify::verify "]),
    ("routing and parameter decoding", [r"Dialect>::route$", r"decode_params$", r"aliyun::params::", r"DescribeImages::parse", r"ModifyImageAttribute::parse"]),
    ("the action (domain and store)", [r"actions::dispatch::"]),
    ("  store reads (sled gets of the records)", [r"SledEngine as .*(Engine|Reader)>::get$", r"engine::Reader::get_many$"]),
    ("  index scan (sled range iteration)", [r"SledScan as .*Iterator>::next$"]),
    ("  record decoding (and the kept decoded records)", [r"store::record::decode$", r"ImageCache::decode$"]),
    ("  store writes and the durable flush", [r"Store::transact", r"Store::durable", r"commit::"]),
    ("  rendering (wire structs to JSON text)", [r"Output::insert_serialized", r"aliyun::render::cluster$", r"write_image_set$"]),
    ("envelope", [r"envelope::success$"]),
    ("logging, metrics, journal", [r"pipeline::finish", r"metrics::Metrics::observe", r"journal::", r"tracing_subscriber::"]),
    ("allocator (self time; glibc or mimalloc)", [r"^_int_malloc", r"^malloc$", r"^_int_free", r"^cfree", r"^malloc_consolidate", r"^realloc", r"^_?mi_"]),
]
print(f"{'stage':55} share of samples")
for name, pats in stages:
    if name.startswith("allocator"):
        share = sum(s for c, s, sym in rows if any(re.search(p, sym) for p in pats))
    else:
        share = max([c for c, s, sym in rows if any(re.search(p, sym.replace(" (inlined)", "")) for p in pats)] or [0.0])
    print(f"{name:55} {share:5.1f}%")
EOF
