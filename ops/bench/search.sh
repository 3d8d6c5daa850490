#!/usr/bin/env bash
# Talent search and recommendations at national scale, on SQLite and PostgreSQL.
#
#   bash ops/bench/search.sh                   # 100k and 1M talents, 10k projects, both backends
#   SIZES="100000" bash ops/bench/search.sh    # one size
#   BACKENDS=sqlite QUERIES=500 bash ops/bench/search.sh
#
# For each size and backend, crates/yui-store/examples/search_bench.rs fills a fresh
# database (SQLite file under a temporary directory; PostgreSQL database yui_bench_search
# on $YUI_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432) with synthetic
# talents (1–4 skills, a Japanese summary, half members of the benchmark tenant, the rest
# in the shared pool) and open projects, then times each kind of query through the
# store's own API ($QUERIES times, default 300) and prints p50/p99:
#   word          a two-character Japanese word (農業, 広報, 観光 …), members + pool, 20 a page
#   skill         one skill
#   word+skill    both
#   recommend_projects  a talent's top 10 projects (candidates from the store, score in process)
#   recommend_talents   a project's top 10 talents
#   project_word        the search of open projects across regions by a two-character word
# Targets at 1M talents: p99 ≤ 20 ms for search, ≤ 50 ms for recommendations. Filling
# 1M talents takes ~6–7 minutes per backend on 2 cores; filling is not timed.
# A report: exits 0 whether targets are met or not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
sizes="${SIZES:-100000 1000000}"
backends="${BACKENDS:-sqlite postgres}"
queries="${QUERIES:-300}"
pg="${YUI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
target="${CARGO_TARGET_DIR:-$(pwd)/target}"
cargo build --release --locked -p yui-store --example search_bench >&2
bin="$target/release/examples/search_bench"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf 'load average: %s\n\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| backend | talents | query | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n'
for size in $sizes; do
  for backend in $backends; do
    case "$backend" in
      sqlite) url="sqlite://$tmp/search-$size.db" ;;
      postgres)
        psql "$pg/postgres" -qc 'DROP DATABASE IF EXISTS yui_bench_search' -c 'CREATE DATABASE yui_bench_search' >&2
        url="$pg/yui_bench_search" ;;
      *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    "$bin" --database-url "$url" --talents "$size" --projects 10000 --queries "$queries" \
      | while read -r line; do
          eval "$(echo "$line" | tr ' ' '\n' | sed -n 's/^\(kind\|p50_ms\|p99_ms\|max_ms\)=\(.*\)$/\1="\2"/p')"
          printf '| %s | %s | %s | %s | %s | %s |\n' "$backend" "$size" "$kind" "$p50_ms" "$p99_ms" "$max_ms"
        done
    rm -f "$tmp"/search-"$size".db*
  done
done
if [[ " $backends " == *" postgres "* ]]; then
  psql "$pg/postgres" -qc 'DROP DATABASE IF EXISTS yui_bench_search' >&2 || true
fi
