#!/usr/bin/env bash
# Events under load: the public event page and the registration POST of the JSON API,
# on SQLite and PostgreSQL.
#
#   bash ops/bench/events.sh                        # both backends, wrk runs 5 s each
#   DURATION=30s BACKENDS=sqlite bash ops/bench/events.sh
#
# For each backend, `yui serve --demo` (release build) starts on a free port on
# 127.0.0.1 with a fresh database: SQLite, a file in a temporary directory; PostgreSQL,
# the database yui_bench_events created on $YUI_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432), migrated by that (owner) role, and served as the
# role yui_bench_events_app (LOGIN NOBYPASSRLS, the grants ops/README.md gives the
# application role, YUI_MIGRATE_ON_START=false) so that row-level security is paid as
# in production. Both are dropped on exit.
#
# Once /readyz answers:
# 1. Set-up, not timed (ops/bench/events_setup.py): the demo's iwate administrator and
#    $TALENTS demo talents (default 25: sign-in throttles one address after ~30) sign in on /signin and each create an API
#    token for iwate on /account/tokens, submitting the forms those pages render. The
#    token page offers only the regions where a person holds a role, and demo talents
#    are members of iwate without one, so first `yui admin grant --role talent` gives
#    each of them the talent role there. The event page measured is the first
#    published upcoming event in the public list /api/v1/tenants/iwate/events (one is
#    created through the staff API when the demo has none). $EVENTS onsite events of
#    $CAPACITY seats (defaults: enough events for twice the pairs wrk can send at
#    4,000 registrations a second; 150 seats, so half of each event's 300 registrations
#    are confirmed and half waitlisted, the two outcomes of the same seat lock) are
#    created through POST /api/v1/tenants/iwate/events.
# 2. The event page: `wrk -t1 -c$CONNECTIONS -d$DURATION --latency` on
#    /t/iwate/events/{id} (no Accept-Language: the Japanese page; no compression).
# 3. Registrations: the same wrk with ops/bench/events_register.lua, where request k
#    posts {"attendance":"onsite"} to /api/v1/tenants/iwate/events/{event k div N}/
#    registrations with the token of talent k mod N: every request is a new (person,
#    event) pair, so each one takes the event's seat lock, writes the registration,
#    its transition and the person's mail (the outbox worker writes them to files in
#    the temporary directory meanwhile, as it would send them). The script counts the
#    answers by status and says so when any was not 201.
# 4. A table: backend × page × req/s, p50, p99, and whether the target is met:
#    SQLite event page ≥ 4,900 req/s (100 × pretix's 46–49 req/s for a comparable page
#    on this machine kind) with p99 ≤ 10 ms.
#
# Connections: 2 by default, as ops/bench/pages.sh. The machine has 2 cores, shared by
# wrk and the server: more connections queue requests on the same cores, which raises
# p50/p99 without adding req/s (CONNECTIONS=8 to see it).
#
# A report: exits 0 whether the target is met or not, non-zero only when the benchmark
# could not run. Installs wrk, curl and python3 with apt-get when missing; PostgreSQL
# needs psql and a server that lets the owner role in without a password. Respects
# CARGO_TARGET_DIR. Servers are stopped, the PostgreSQL database and role dropped and
# temporary files removed on exit. Run it on a quiet machine: the header prints the
# load average at the start.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
duration="${DURATION:-5s}"
connections="${CONNECTIONS:-2}"
backends="${BACKENDS:-sqlite postgres}"
# Sign-in allows one client address about 30 attempts before it throttles (429), and
# every talent signs in from 127.0.0.1: 25 stays under it.
talents="${TALENTS:-25}"
capacity="${CAPACITY:-150}"
tenant=iwate
pg="${YUI_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
# yui refuses YUI_* keys it does not know, and this one is the script's own.
unset YUI_BENCH_POSTGRES_URL
pg_db=yui_bench_events
pg_role=yui_bench_events_app

# wrk's -d takes 5, 5s, 2m, 1h: in seconds.
secs="$(awk -v d="$duration" 'BEGIN {
  n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
  if (u == "m") n *= 60; else if (u == "h") n *= 3600; else if (u != "" && u != "s") n = -1
  print int(n)
}')"
if ((secs <= 0)); then
  echo "DURATION=$duration: give seconds, e.g. 5s or 1m" >&2
  exit 2
fi
events="${EVENTS:-$(((secs * 4000 * 2 + talents - 1) / talents))}"
((events >= 10)) || events=10

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [[ " $backends " == *" postgres "* ]] && ! command -v psql >/dev/null 2>&1; then
  need+=(postgresql-client)
fi
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing ${need[*]}..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

echo "building yui (release)..." >&2
CARGO_TARGET_DIR="$target" cargo build --quiet --release --bin yui
yui="$target/release/yui"

work="$(mktemp -d "${TMPDIR:-/tmp}/yui-events-bench.XXXXXX")"
server_pid=""
pg_made=""
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
drop_pg() {
  psql "$pg/postgres" -qX -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" \
    -c "DROP ROLE IF EXISTS $pg_role" >&2
}
cleanup() {
  stop_server
  if [[ -n "$pg_made" ]]; then drop_pg || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }

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

# yui_in DIR URL ARGS...: runs yui in DIR (so that no yui.toml of the caller's is read)
# on the database URL, with the seed tenants, mail as files in DIR/outbox, warnings only
# (no log line per request).
yui_env() {
  yui_vars=(YUI_DATABASE_URL="$2" YUI_TENANTS_DIR="$repo/tenants"
    YUI_MAIL__FILE_DIR="$1/outbox" YUI_LOG="${YUI_LOG:-warn}" YUI_LOG_FORMAT=pretty
    YUI_SHUTDOWN_TIMEOUT_SECS=5 ${yui_extra[@]+"${yui_extra[@]}"})
}
yui_in() {
  local dir="$1" url="$2"; shift 2
  yui_env "$dir" "$url"
  (cd "$dir" && exec env "${yui_vars[@]}" "$yui" "$@")
}

# run_wrk NAME ARGS...: runs wrk, keeps its output in $work/NAME.wrk, and sets rps,
# p50, p99 and note (non-2xx answers, socket errors) from it.
run_wrk() {
  local name="$1"; shift
  local out non2xx errors
  out="$(wrk -t1 -c"$connections" -d"$duration" --latency "$@")"
  printf '%s\n' "$out" >"$work/$name.wrk"
  rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
  p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")"
  p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
  non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' <<<"$out")"
  errors="$(sed -n 's/^ *Socket errors: *//p' <<<"$out")"
  note=""
  if [[ -n "$non2xx" ]]; then note+=" ($non2xx non-2xx answers)"; fi
  if [[ -n "$errors" ]]; then note+=" (socket errors: $errors)"; fi
}

declare -A res_rps res_p50 res_p99 res_note res_detail
run_backend() {
  local backend="$1" dir="$work/$1" url owner_url port base t0 setup page statuses line
  mkdir -p "$dir/outbox"
  yui_extra=()
  case "$backend" in
    sqlite)
      url="sqlite://$dir/yui.db"
      owner_url="$url"
      ;;
    postgres)
      pg_made=1
      drop_pg
      psql "$pg/postgres" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" \
        -c "CREATE ROLE $pg_role LOGIN NOBYPASSRLS" >&2
      owner_url="$pg/$pg_db"
      yui_in "$dir" "$owner_url" migrate >&2
      psql "$owner_url" -qX -v ON_ERROR_STOP=1 \
        -c "GRANT USAGE ON SCHEMA public TO $pg_role" \
        -c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $pg_role" \
        -c "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO $pg_role" >&2
      url="$(sed -E "s#^(postgres(ql)?://)([^@/]*@)?#\1$pg_role@#" <<<"$pg")/$pg_db"
      yui_extra=(YUI_MIGRATE_ON_START=false)
      ;;
    *) echo "unknown backend $backend (sqlite, postgres)" >&2; exit 2 ;;
  esac

  port="$(free_port)"
  base="http://127.0.0.1:$port"
  echo "[$backend] starting yui serve --demo on $base..." >&2
  t0="$(now_ms)"
  yui_extra+=(YUI_ADDR="127.0.0.1:$port" YUI_PUBLIC_URL="$base")
  # The subshell becomes yui (exec), so $! is the server's own pid (a function run in
  # the background would be a shell of its own between them).
  yui_env "$dir" "$url"
  (cd "$dir" && exec env "${yui_vars[@]}" "$yui" serve --demo) >"$dir/serve.log" 2>&1 &
  server_pid=$!
  until curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "[$backend] yui serve exited before it was ready:" >&2
      tail -n 20 "$dir/serve.log" >&2
      exit 1
    fi
    if (($(now_ms) - t0 > 600000)); then
      echo "[$backend] yui serve not ready after 600 s" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "[$backend] ready after $(( ($(now_ms) - t0) / 1000 )) s (demo loaded)" >&2

  echo "[$backend] granting the talent role in $tenant to $talents demo talents..." >&2
  yui_extra=()
  for n in $(seq 1 "$talents"); do
    yui_in "$dir" "$owner_url" admin grant --email "$(printf 'talent%03d@demo.yui.example' "$n")" \
      --tenant "$tenant" --role talent >/dev/null
  done
  # The server sees new grants at its next policy poll (every 500 ms).
  sleep 1

  setup="$(python3 ops/bench/events_setup.py "$base" "$dir" --talents "$talents" \
    --events "$events" --capacity "$capacity" --tenant "$tenant" --page-slug "$tenant")"
  page="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["page"])' "$setup")"
  if python3 -c 'import json, sys; sys.exit(0 if json.loads(sys.argv[1])["page_event_created"] else 1)' "$setup"; then
    res_detail[$backend]+="event page: the demo listed no upcoming event in $tenant; measured one created through the staff API. "
  fi
  res_detail[$backend]+="event page $page; "

  # Must answer 200 before it is measured (this also warms it up once).
  if ! curl -fsS -o /dev/null "$base$page"; then
    echo "[$backend] GET $page did not answer 200" >&2
    exit 1
  fi
  echo "[$backend] wrk $duration GET $page..." >&2
  run_wrk "$backend-page" "$base$page"
  res_rps[$backend/page]="$rps"; res_p50[$backend/page]="$p50"; res_p99[$backend/page]="$p99"
  res_note[$backend/page]="$note"

  echo "[$backend] wrk $duration POST registrations ($talents talents × $events events)..." >&2
  run_wrk "$backend-register" -s ops/bench/events_register.lua "$base" -- \
    "$dir/tokens.txt" "$dir/events.txt" "$tenant"
  res_rps[$backend/register]="$rps"; res_p50[$backend/register]="$p50"
  res_p99[$backend/register]="$p99"
  statuses="$(sed -n 's/^statuses //p' "$work/$backend-register.wrk")"
  line="$(sed -n 's/^registered //p' "$work/$backend-register.wrk")"
  res_detail[$backend]+="registration answers: ${statuses:-none}; 201s: $line; $(sed -n 's/^pairs //p' "$work/$backend-register.wrk")"
  # Anything but 201 is a run that did not only register new pairs: say so in the table.
  if [[ -z "$statuses" || -n "$(tr ' ' '\n' <<<"$statuses" | grep -v '^201=' | grep -v '^$' || true)" ]]; then
    note+=" (not all 201: $statuses)"
  fi
  res_note[$backend/register]="$note"
  stop_server
}

load="$(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $backends; do
  run_backend "$backend"
done

verdict() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "not met"; fi; }
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "Yui events benchmark — commit $commit, $(nproc) cores ($cpu), load average at start $load"
echo "wrk -t1 -c$connections -d$duration --latency; server and wrk on the same machine; yui serve --demo"
echo "registrations: $talents talents × $events events of $capacity onsite seats, each request a new pair"
echo
echo "| backend | page | req/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for backend in $backends; do
  label="$backend"
  [[ "$backend" == sqlite ]] && label=SQLite
  [[ "$backend" == postgres ]] && label=PostgreSQL
  for kind in page register; do
    what="event page (GET)"
    [[ "$kind" == register ]] && what="registration (POST)"
    printf '| %s | %s | %s%s | %s ms | %s ms |\n' "$label" "$what" \
      "${res_rps[$backend/$kind]}" "${res_note[$backend/$kind]}" \
      "${res_p50[$backend/$kind]}" "${res_p99[$backend/$kind]}"
  done
done
echo
for backend in $backends; do
  echo "$backend: ${res_detail[$backend]}"
done
echo
if [[ -n "${res_rps[sqlite/page]:-}" ]]; then
  echo "target (SQLite event page ≥ 4,900 req/s and p99 ≤ 10 ms): $(verdict "${res_rps[sqlite/page]} >= 4900 && ${res_p99[sqlite/page]} <= 10")"
else
  echo "target (SQLite event page ≥ 4,900 req/s and p99 ≤ 10 ms): not measured (BACKENDS has no sqlite)"
fi
