#!/usr/bin/env bash
# Page throughput against the number of tenants: does a page get slower when Yui hosts
# all of Japan's 1,788 local governments instead of a handful?
#
#   bash ops/bench/pages.sh               # from the repository root; wrk runs 5 s per page
#   DURATION=30s bash ops/bench/pages.sh  # longer wrk runs
#
# 1. ops/bench/pages_tenants.py writes 1,788 synthetic tenant folders (47 prefectures,
#    1,741 municipalities spread as in Japan) into a temporary directory; every one is
#    applied with `yui tenant apply` to a fresh SQLite database (after `yui migrate`),
#    and that apply is timed.
# 2. Two configurations, each its own SQLite database and tenants folder:
#      1,788  the 1,788 generated tenants plus the seed tenants of tenants/ (1,792 in all)
#      4      the seed tenants alone
#    For each, `yui serve` (release build) applies its tenants folder, listens on a free
#    port on 127.0.0.1, and once /readyz answers, `wrk -t1 -c2 -d$DURATION --latency`
#    runs against the home page /, a tenant page /t/iwate/ and the sign-in page /signin,
#    one after the other, with no Accept-Language (Japanese pages) and no compression.
#    curl records the size of the home page.
# 3. A table of req/s and p99 latency per page in both configurations, the ratio of the
#    req/s (1,788 ÷ 4), the home page size, and whether the target is met. The script is a
#    report: it exits 0 whether the target is met or not, and non-zero only when the
#    benchmark itself could not run.
#
# Installs wrk (and curl) with apt-get when missing. Server, wrk and the machine share
# the same cores: run it on a quiet machine (the header prints the load average).
# Respects CARGO_TARGET_DIR. Temporary files are removed and servers stopped on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
duration="${DURATION:-5s}"
pages=(/ /t/iwate/ /signin)

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing ${need[*]}..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

echo "building yui (release)..." >&2
CARGO_TARGET_DIR="$target" cargo build --quiet --release --bin yui
yui="$target/release/yui"

work="$(mktemp -d "${TMPDIR:-/tmp}/yui-pages-bench.XXXXXX")"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # Shutdown waits at most YUI_SHUTDOWN_TIMEOUT_SECS (5 below) for requests in flight.
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# The environment yui runs with for a configuration folder DIR: DIR/yui.db, DIR/tenants,
# mail files in DIR/outbox, warnings only (no log line per request).
yui_env() {
  yui_vars=(YUI_DATABASE_URL="sqlite://$1/yui.db" YUI_TENANTS_DIR="$1/tenants"
    YUI_MAIL__FILE_DIR="$1/outbox" YUI_LOG="${YUI_LOG:-warn}" YUI_LOG_FORMAT=pretty
    YUI_SHUTDOWN_TIMEOUT_SECS=5)
}
# yui_in DIR ARGS...: runs yui in DIR (so that no yui.toml of the caller's is read).
yui_in() {
  local dir="$1"; shift
  yui_env "$dir"
  (cd "$dir" && exec env "${yui_vars[@]}" "$yui" "$@")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wrk prints latencies as 950.00us, 12.34ms, 1.02s or 1.50m: in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    else if (u != "ms") { print "?"; exit }
    printf "%.2f", n
  }'
}

seeds=()
for d in tenants/*/; do
  if [[ -f "$d/tenant.toml" ]]; then seeds+=("$(basename "$d")"); fi
done
n_seed="${#seeds[@]}"
copy_seeds() {
  for s in "${seeds[@]}"; do cp -R "tenants/$s" "$1/$s"; done
}

# --- 1. generate and apply the 1,788 tenants ---------------------------------------
big="$work/big"
small="$work/small"
mkdir -p "$big/tenants" "$small/tenants"
echo "generating tenants..." >&2
python3 ops/bench/pages_tenants.py "$big/tenants" >&2
generated=("$big"/tenants/*/)
n_generated="${#generated[@]}"

yui_in "$big" migrate
echo "applying $n_generated tenants with yui tenant apply..." >&2
t0="$(now_ms)"
if ! yui_in "$big" tenant apply "${generated[@]}" >"$big/apply.log" 2>&1; then
  echo "yui tenant apply failed:" >&2
  tail -n 20 "$big/apply.log" >&2
  exit 1
fi
apply_ms=$(($(now_ms) - t0))
n_created="$(grep -c ': created$' "$big/apply.log" || true)"
if [[ "$n_created" != "$n_generated" ]]; then
  echo "yui tenant apply created $n_created tenants, not $n_generated:" >&2
  tail -n 20 "$big/apply.log" >&2
  exit 1
fi

copy_seeds "$big/tenants"
copy_seeds "$small/tenants"

# --- 2. serve each configuration and run wrk -----------------------------------------
declare -A rps p99 notes home_bytes ready_ms n_tenants
run_config() {
  local name="$1" dir="$2" port url t0 page out non2xx errors
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  echo "[$name] starting yui serve on $url..." >&2
  t0="$(now_ms)"
  yui_env "$dir"
  # The subshell becomes yui (exec), so $! is the server's own pid.
  (cd "$dir" && exec env "${yui_vars[@]}" YUI_ADDR="127.0.0.1:$port" "$yui" serve) >"$dir/serve.log" 2>&1 &
  server_pid=$!
  until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "[$name] yui serve exited before it was ready:" >&2
      tail -n 20 "$dir/serve.log" >&2
      exit 1
    fi
    if (($(now_ms) - t0 > 300000)); then
      echo "[$name] yui serve not ready after 300 s" >&2
      exit 1
    fi
    sleep 0.1
  done
  ready_ms[$name]=$(($(now_ms) - t0))
  n_tenants[$name]="$(yui_in "$dir" tenant list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')"

  for page in "${pages[@]}"; do
    # Every page must answer 200 before it is measured (this also warms it up once).
    if ! curl -fsS -o /dev/null "$url$page"; then
      echo "[$name] GET $page did not answer 200" >&2
      exit 1
    fi
  done
  home_bytes[$name]="$(curl -fsS -o /dev/null -w '%{size_download}' "$url/")"

  for page in "${pages[@]}"; do
    echo "[$name] wrk $duration $page..." >&2
    out="$(wrk -t1 -c2 -d"$duration" --latency "$url$page")"
    rps[$name$page]="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
    p99[$name$page]="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
    non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' <<<"$out")"
    errors="$(sed -n 's/^ *Socket errors: *//p' <<<"$out")"
    notes[$name$page]=""
    if [[ -n "$non2xx" ]]; then notes[$name$page]+=" ($non2xx non-2xx answers)"; fi
    if [[ -n "$errors" ]]; then notes[$name$page]+=" (socket errors: $errors)"; fi
  done
  stop_server
}

load="$(cut -d' ' -f1-3 /proc/loadavg)"
run_config big "$big"
run_config small "$small"

# --- 3. report -------------------------------------------------------------------------
verdict() { if awk "BEGIN { exit !($1) }"; then echo "MET"; else echo "NOT MET"; fi; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }'; }

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "Yui page benchmark — commit $commit, $(nproc) cores ($cpu), load average at start $load"
echo "wrk -t1 -c2 -d$duration --latency per page; server and wrk on the same machine; SQLite"
echo "1,788 = $n_generated generated tenants + $n_seed seed tenants (${n_tenants[big]} in the database);" \
  "4 = the $n_seed seed tenants alone (${n_tenants[small]} in the database)"
echo "yui tenant apply of the $n_generated generated tenants (fresh database, one process): $(awk -v m="$apply_ms" 'BEGIN { printf "%.1f", m / 1000 }') s"
echo "yui serve start until /readyz (applies its whole tenants folder first): 1,788: $(awk -v m="${ready_ms[big]}" 'BEGIN { printf "%.1f", m / 1000 }') s; 4: $(awk -v m="${ready_ms[small]}" 'BEGIN { printf "%.1f", m / 1000 }') s"
echo
echo "| page | req/s (1,788) | p99 (1,788) | req/s (4) | p99 (4) | ratio (1,788 ÷ 4 req/s) | ratio ≥ 0.8 |"
echo "|---|---|---|---|---|---|---|"
for page in "${pages[@]}"; do
  b="${rps[big$page]}"; s="${rps[small$page]}"
  ratio="$(awk -v b="$b" -v s="$s" 'BEGIN { if (s > 0) printf "%.3f", b / s; else print "0" }')"
  printf '| %s | %s%s | %s ms | %s%s | %s ms | %s | %s |\n' "$page" \
    "$b" "${notes[big$page]}" "${p99[big$page]}" "$s" "${notes[small$page]}" "${p99[small$page]}" \
    "$ratio" "$(verdict "$ratio >= 0.8")"
done
echo
echo "home page size (uncompressed HTML, 1 KB = 1,000 bytes): 1,788: $(kb "${home_bytes[big]}") KB (${home_bytes[big]} bytes) — $(verdict "${home_bytes[big]} < 100000"); 4: $(kb "${home_bytes[small]}") KB (${home_bytes[small]} bytes)"
echo
echo "target: ratio ≥ 0.8 on every page; home page < 100 KB with 1,788 tenants"
