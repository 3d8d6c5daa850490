#!/usr/bin/env bash
# The scale check: Yui with every local government of Japan as a tenant and a million
# talents, on one node with SQLite. Do the pages people use most still answer within
# the earlier benchmarks' targets, and how much memory does the node hold?
#
#   bash ops/bench/scale.sh                       # 1M talents, wrk 5 s per page (~4 min)
#   SCALE_TALENTS=100000 bash ops/bench/scale.sh  # a quicker run
#   YUI_BIN=target/release/yui DURATION=10s bash ops/bench/scale.sh
#
# 1. Tenants: ops/bench/scale_data.py writes a folder per administered entry of the
#    national list (crates/yui-domain/data/local_governments.tsv: 47 prefectures and
#    1,741 municipalities, real codes, names, kana and English names, municipalities
#    under their prefecture); the repository's tenants/ take the place of the entries
#    with their codes (iwate, ichinoseki, kamaishi) and the union amami is added. A fresh
#    SQLite database (`yui migrate`), then one timed `yui tenant apply` of all 1,789.
# 2. The password: `yui serve` starts on the database, an account signs up on /signup
#    (the form the page rendered), the server stops. Its argon2 hash is copied to every
#    talent, so any of them can sign in with that password.
# 3. Talents: scale_data.py inserts $SCALE_TALENTS (default 1,000,000) accounts with
#    talent profiles (skills, interests, ties, recommendation masks), memberships of
#    one to three regions drawn by Zipf's law (iwate first, about an eighth of all
#    memberships; then the prefectures by population; the municipalities last) with
#    their consent-log rows, and the bigram search index, in transactions of 50,000,
#    timed; then a coordinator account. `yui admin grant` makes it iwate's coordinator.
# 4. `yui serve` (no --demo; it applies the 1,789 folders again at start) until
#    /readyz, timed. Talent 1 (a member of iwate and two other regions) and the
#    coordinator sign in on /signin; then `wrk -t1 -c$CONNECTIONS -d$DURATION --latency`
#    on, one after the other:
#      /                     home page (lists every public tenant)
#      /t/iwate/             a tenant page (the biggest region)
#      /me                   the talent's dashboard (its session cookie)
#      /t/iwate/talents?…    the coordinator's talent search: the two-character word
#                            広報, the skill `design`, members and the shared pool
# 5. Memory of the node: VmRSS from /proc/<pid>/status right after /readyz, and after
#    the load and 5 s of idling; VmHWM (peak) at the end.
# 6. The baseline: the same server, sign-ins and pages on a second database with only
#    the repository's tenants (4) and $SCALE_BASE_TALENTS talents (default 10,000,
#    enough for a full first page of search results) made the same way, so that the
#    ratio of the req/s says what national scale itself costs on the machine as it
#    was loaded during the run.
# 7. A Markdown table: page, req/s, p50, p99, the target and whether it is met, the
#    baseline's req/s and p99 and the ratio; then the memory lines and the set-up
#    timings. Targets come from the earlier benchmarks (ops/bench/README.md): the
#    public and signed-in pages are judged against the event page's of events.sh
#    (≥ 4,900 req/s, p99 ≤ 10 ms), the search page against the store search's of
#    search.sh (p99 ≤ 20 ms; the page also renders); one node idle ≤ 100 MB RSS.
#
# A report: exits 0 whether the targets are met or not, non-zero only when the check
# could not run. Installs wrk, curl and python3 with apt-get when missing. Builds yui
# (release) unless YUI_BIN is set; respects CARGO_TARGET_DIR. Needs ~3 GB of free disk
# under $TMPDIR for 1M talents. Stops its servers and removes its files on exit
# (SCALE_KEEP=1 keeps the work folder and prints where it is). Run it on a quiet
# machine: the header prints the load average.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
talents="${SCALE_TALENTS:-1000000}"
duration="${DURATION:-5s}"
connections="${CONNECTIONS:-2}"
keep="${SCALE_KEEP:-}"
base_talents="${SCALE_BASE_TALENTS:-10000}"
big=iwate
password="scale-bench-2026"
hash_from="hash@scale.yui.example"
coordinator="coordinator@scale.yui.example"
talent="talent0000001@scale.yui.example"
# yui refuses YUI_* keys it does not know; YUI_BIN is the script's own.
yui="${YUI_BIN:-}"
unset YUI_BIN

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing ${need[*]}..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

if [[ -z "$yui" ]]; then
  echo "building yui (release)..." >&2
  CARGO_TARGET_DIR="$target" cargo build --quiet --release --locked --bin yui
  yui="$target/release/yui"
fi
yui="$(cd "$(dirname "$yui")" && pwd)/$(basename "$yui")"

work="$(mktemp -d "${TMPDIR:-/tmp}/yui-scale.XXXXXX")"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  if [[ -n "$keep" ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
secs() { awk -v m="$1" 'BEGIN { printf "%.1f", m / 1000 }'; }
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
# A line of /proc/PID/status (VmRSS, VmHWM) in MB (1 MB = 1,000,000 bytes).
mem_mb() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 * 1024 / 1e6 }' "/proc/$1/status"; }

db="$work/yui.db"
tenants="$work/tenants"
empty="$work/no-tenants"
mkdir -p "$tenants" "$empty"
# yui_in TENANTS_DIR ARGS...: yui on the database, in the work folder (so that no
# yui.toml of the caller's is read), warnings only.
yui_in() {
  local dir="$1"; shift
  (cd "$work" && exec env YUI_DATABASE_URL="sqlite://$db" YUI_TENANTS_DIR="$dir" \
    YUI_MAIL__FILE_DIR="$work/outbox" YUI_LOG="${YUI_LOG:-warn}" YUI_LOG_FORMAT=pretty \
    YUI_SHUTDOWN_TIMEOUT_SECS=5 "$yui" "$@")
}
url=""
start_server() {
  local dir="$1" log="$2" t0 port
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  t0="$(now_ms)"
  # The subshell becomes yui (exec), so $! is the server's own pid.
  (cd "$work" && exec env YUI_DATABASE_URL="sqlite://$db" YUI_TENANTS_DIR="$dir" \
    YUI_MAIL__FILE_DIR="$work/outbox" YUI_LOG="${YUI_LOG:-warn}" YUI_LOG_FORMAT=pretty \
    YUI_SHUTDOWN_TIMEOUT_SECS=5 YUI_ADDR="127.0.0.1:$port" "$yui" serve) >"$log" 2>&1 &
  server_pid=$!
  until curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "yui serve exited before it was ready:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    if (($(now_ms) - t0 > 600000)); then
      echo "yui serve not ready after 600 s" >&2
      exit 1
    fi
    sleep 0.1
  done
  ready_ms=$(($(now_ms) - t0))
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
t_all="$(now_ms)"

# --- 1. tenants ------------------------------------------------------------------------
echo "writing tenant folders from the national list..." >&2
python3 ops/bench/scale_data.py tenants crates/yui-domain/data/local_governments.tsv \
  tenants "$tenants" >"$work/order.txt"
mapfile -t folders <"$work/order.txt"
yui_in "$empty" migrate
echo "applying ${#folders[@]} tenants with yui tenant apply..." >&2
t0="$(now_ms)"
if ! yui_in "$empty" tenant apply "${folders[@]}" >"$work/apply.log" 2>&1; then
  echo "yui tenant apply failed:" >&2
  tail -n 20 "$work/apply.log" >&2
  exit 1
fi
apply_ms=$(($(now_ms) - t0))
n_created="$(grep -c ': created$' "$work/apply.log" || true)"
if [[ "$n_created" != "${#folders[@]}" ]]; then
  echo "yui tenant apply created $n_created tenants, not ${#folders[@]}" >&2
  exit 1
fi

# --- 2. one password hash, made by the app ----------------------------------------------
echo "signing up $hash_from for its password hash..." >&2
start_server "$empty" "$work/signup.log"
python3 - "$url" "$hash_from" "$password" <<'EOF'
import os, sys, urllib.parse
sys.path.insert(0, "ops/bench")
from events_setup import Browser
base, email, password = sys.argv[1:]
b = Browser(base)
form = b.form("/signup", "/signup")
status, url, _ = b.submit(form, display_name="スケール 検証", email=email,
                          password=password, password_confirm=password)
if status != 200 or urllib.parse.urlparse(url).path == "/signup":
    raise SystemExit(f"sign-up answered {status} at {url}")
EOF
stop_server

# --- 3. talents ---------------------------------------------------------------------------
echo "inserting $talents talents..." >&2
t0="$(now_ms)"
python3 ops/bench/scale_data.py talents "$db" --talents "$talents" --hash-from "$hash_from" \
  --big "$big" --coordinator "$coordinator" >"$work/fill.txt"
fill_ms=$(($(now_ms) - t0))
fill() { sed -n "s/^$1=//p" "$work/fill.txt"; }
yui_in "$empty" admin grant --email "$coordinator" --tenant "$big" --role coordinator >&2
db_bytes="$(stat -c %s "$db")"

# --- 4. serve and measure -----------------------------------------------------------------
search="/t/$big/talents?q=%E5%BA%83%E5%A0%B1&skill=design&pool=on"
pages=("/" "/t/$big/" "/me" "$search")
labels=("home page /" "tenant page /t/$big/" "talent dashboard /me" "coordinator search /t/$big/talents?q=広報&skill=design&pool=on")
targets=("≥ 4,900 req/s, p99 ≤ 10 ms (events.sh event page)"
  "≥ 4,900 req/s, p99 ≤ 10 ms (events.sh event page)"
  "≥ 4,900 req/s, p99 ≤ 10 ms (events.sh event page)"
  "p99 ≤ 20 ms (search.sh store search)")
declare -A rps p50 p99 notes met rss_start rss_idle rss_peak ready found home_bytes
# measure NAME TENANTS_DIR: serves $db with that tenants folder (applied again at
# start), signs the talent and the coordinator in, and runs wrk on every page.
measure() {
  local name="$1" dir="$2" i page code out non2xx errors ok talent_cookie coord_cookie
  echo "[$name] starting yui serve..." >&2
  start_server "$dir" "$work/serve-$name.log"
  ready[$name]="$ready_ms"
  rss_start[$name]="$(mem_mb "$server_pid" VmRSS)"
  talent_cookie="$(python3 ops/bench/scale_data.py sign-in "$url" "$talent" "$password")"
  coord_cookie="$(python3 ops/bench/scale_data.py sign-in "$url" "$coordinator" "$password")"
  local cookies=("" "" "$talent_cookie" "$coord_cookie")
  for i in "${!pages[@]}"; do
    page="${pages[$i]}"
    local hdr=()
    if [[ -n "${cookies[$i]}" ]]; then hdr=(-H "Cookie: ${cookies[$i]}"); fi
    # Every page must answer 200 before it is measured (this also warms it up once).
    code="$(curl -sS -o "$work/page.html" -w '%{http_code}' "${hdr[@]}" "$url$page")"
    if [[ "$code" != 200 ]]; then
      echo "[$name] GET $page answered $code" >&2
      exit 1
    fi
    if [[ "$page" == "/" ]]; then home_bytes[$name]="$(stat -c %s "$work/page.html")"; fi
    if [[ "$page" == "$search" ]]; then found[$name]="$(grep -c '<th scope="row">' "$work/page.html" || true)"; fi
    echo "[$name] wrk $duration ${labels[$i]}..." >&2
    out="$(wrk -t1 -c"$connections" -d"$duration" --latency "${hdr[@]}" "$url$page")"
    rps[$name$i]="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
    p50[$name$i]="$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")"
    p99[$name$i]="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
    non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' <<<"$out")"
    errors="$(sed -n 's/^ *Socket errors: *//p' <<<"$out")"
    notes[$name$i]=""
    if [[ -n "$non2xx" ]]; then notes[$name$i]+=" ($non2xx non-2xx answers)"; fi
    if [[ -n "$errors" ]]; then notes[$name$i]+=" (socket errors: $errors)"; fi
    if [[ "$page" == "$search" ]]; then
      ok="$(awk -v p="${p99[$name$i]}" 'BEGIN { print (p <= 20) ? "yes" : "no" }')"
    else
      ok="$(awk -v r="${rps[$name$i]}" -v p="${p99[$name$i]}" 'BEGIN { print (r >= 4900 && p <= 10) ? "yes" : "no" }')"
    fi
    if [[ -n "${notes[$name$i]}" ]]; then ok="no"; fi
    met[$name$i]="$ok"
  done
  sleep 5
  rss_idle[$name]="$(mem_mb "$server_pid" VmRSS)"
  rss_peak[$name]="$(mem_mb "$server_pid" VmHWM)"
  stop_server
}
measure national "$tenants"
idle_met="$(awk -v m="${rss_idle[national]}" 'BEGIN { print (m <= 100) ? "yes" : "no" }')"
n_tenants="$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM tenants").fetchone()[0])' "$db")"

# --- 5. the same pages on the repository's tenants alone (the baseline) -----------------
# What the pages cost where nothing is national: the seed tenants and
# $SCALE_BASE_TALENTS talents made the same way. The ratio of the two says what the
# national scale itself costs, on the machine as loaded during the run.
echo "[seeds] a database with the repository's tenants and $base_talents talents..." >&2
national_db="$db"
db="$work/seeds.db"
seeds="$work/seed-tenants"
mkdir -p "$seeds"
for d in tenants/*/; do
  if [[ -f "$d/tenant.toml" ]]; then cp -R "$d" "$seeds/$(basename "$d")"; fi
done
yui_in "$empty" migrate
yui_in "$empty" tenant apply "$seeds"/*/ >/dev/null
# The same password hash: the sign-up account's row, copied.
python3 - "$national_db" "$db" "$hash_from" <<'EOF'
import sqlite3, sys
src, dst, email = sys.argv[1:]
con = sqlite3.connect(dst)
con.execute("ATTACH ? AS national", (src,))
con.execute("INSERT INTO accounts SELECT * FROM national.accounts WHERE email_lower = ?", (email,))
con.commit()
EOF
python3 ops/bench/scale_data.py talents "$db" --talents "$base_talents" --hash-from "$hash_from" \
  --big "$big" --coordinator "$coordinator" >"$work/fill-seeds.txt"
yui_in "$empty" admin grant --email "$coordinator" --tenant "$big" --role coordinator >&2
measure seeds "$seeds"
n_seed_tenants="$(ls "$seeds" | wc -l)"
db="$national_db"

# --- 6. report ------------------------------------------------------------------------------
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
echo
echo "Yui scale check — commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($cpu)"
echo "load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg); SQLite; one node;" \
  "wrk -t1 -c$connections -d$duration --latency per page, server and wrk on the same machine"
echo "national: $n_tenants tenants, $(fill accounts) talents, $(fill memberships) memberships ($(fill big_members) of them in $big);" \
  "baseline: the $n_seed_tenants seed tenants, $base_talents talents"
echo
echo "| page | req/s | p50 | p99 | target | met | baseline req/s | baseline p99 | req/s national ÷ baseline |"
echo "|---|---|---|---|---|---|---|---|---|"
for i in "${!pages[@]}"; do
  printf '| %s | %s%s | %s ms | %s ms | %s | %s | %s%s | %s ms | %s |\n' "${labels[$i]}" \
    "${rps[national$i]}" "${notes[national$i]}" "${p50[national$i]}" "${p99[national$i]}" \
    "${targets[$i]}" "${met[national$i]}" "${rps[seeds$i]}" "${notes[seeds$i]}" "${p99[seeds$i]}" \
    "$(ratio "${rps[national$i]}" "${rps[seeds$i]}")"
done
echo
echo "home page: ${home_bytes[national]} bytes of HTML (baseline ${home_bytes[seeds]});" \
  "coordinator search: ${found[national]} talents on its first page (baseline ${found[seeds]})"
echo "memory of the node (VmRSS): ${rss_start[national]} MB right after /readyz;" \
  "${rss_idle[national]} MB idle after the load (target ≤ 100 MB: $idle_met); peak (VmHWM) ${rss_peak[national]} MB"
echo "baseline memory: ${rss_start[seeds]} MB after /readyz; ${rss_idle[seeds]} MB idle after the load; peak ${rss_peak[seeds]} MB"
echo
echo "set-up:"
echo "- yui tenant apply of ${#folders[@]} folders on a fresh database: $(secs "$apply_ms") s"
echo "- inserting $(fill accounts) talents: $(secs "$fill_ms") s in all (rows $(fill insert_s) s," \
  "FTS optimize $(fill optimize_s) s, ANALYZE $(fill analyze_s) s): $(fill skills) skills," \
  "$(fill interests) interests, $(fill ties) ties, $(fill memberships) memberships," \
  "$(fill consent_log) consent-log rows"
echo "- database file: $(awk -v b="$db_bytes" 'BEGIN { printf "%.2f", b / 1e9 }') GB"
echo "- yui serve start until /readyz (migrations checked, ${#folders[@]} folders applied again): $(secs "${ready[national]}") s (baseline $(secs "${ready[seeds]}") s)"
echo "- whole run: $(secs $(($(now_ms) - t_all))) s"
