#!/usr/bin/env bash
# Backup drill on SQLite: Yui serves the demo while talents register through the API;
# `yui backup` copies the database in the middle of it; `yui restore` brings the copy
# back as a new database, which must pass SQLite's integrity check, hold every
# registration acknowledged before the backup began, and serve.
#
#   bash ops/drills/backup.sh              # from the repository root; ~15 s
#   YUI_BIN=target/release/yui KEEP=1 bash ops/drills/backup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
YUI_BIN=${YUI_BIN:-target/debug/yui}
TALENTS=${TALENTS:-16}
EVENTS=${EVENTS:-40}
started=$(date +%s.%N)

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[backup %6ss] %s\n' "$(secs "$started" "$(date +%s.%N)")" "$*"; }
fail() { say "FAILED: $*"; exit 1; }

command -v python3 >/dev/null || fail "python3 is needed"
if [ ! -x "$YUI_BIN" ]; then
  say "building $YUI_BIN"
  cargo build --locked --bin yui
fi
YUI_BIN=$(realpath "$YUI_BIN")
work=$(mktemp -d /tmp/yui-backup.XXXXXX)

pids=()
cleanup() {
  local rc=$?
  touch "$work/stop"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ $rc -ne 0 ]; then
    for l in yui restored; do echo "--- $l log (last 20 lines)"; tail -n 20 "$work/$l.log" 2>/dev/null || true; done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Runs yui in the work folder. The subshell execs it, so a `&` job's $! is yui itself
# and killing it at the end stops the server, not only a shell around it.
yui() { (cd "$work" && exec env -u YUI_ADDR YUI_TENANTS_DIR="$root/tenants" YUI_SHUTDOWN_GRACE_SECS=0 YUI_LOG=warn "$YUI_BIN" "$@"); }
wait_ready() {
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "$1/readyz" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

HTTP=$(free_port)
base="http://127.0.0.1:$HTTP"
live="sqlite://$work/live.db"
(cd "$work" && YUI_DATABASE_URL=$live YUI_LOG=info exec env -u YUI_ADDR YUI_TENANTS_DIR="$root/tenants" \
  YUI_SHUTDOWN_GRACE_SECS=0 NO_COLOR=1 "$YUI_BIN" serve --demo --addr "127.0.0.1:$HTTP" >"$work/yui.log" 2>&1) &
yui_pid=$!
pids+=($yui_pid)
wait_ready "$base" $yui_pid || fail "Yui did not become ready"
say "Yui serving the demo on $live"

client() { python3 ops/drills/yui_client.py "$@"; }
admin=$(client token "$base" admin@iwate.demo.yui.example yui-demo-2026 iwate)
client events "$base" "$admin" iwate "$EVENTS" >"$work/events"
: >"$work/tokens"
for i in $(seq 1 "$TALENTS"); do
  client token "$base" "$(printf 'talent%03d@demo.yui.example' "$i")" yui-demo-2026 iwate >>"$work/tokens"
done
: >"$work/acked"
python3 ops/drills/yui_client.py load "$base" iwate "$work/tokens" "$work/events" "$work/acked" "$work/stop" 2>"$work/load.log" &
load_pid=$!
pids+=($load_pid)
sleep 3

cp "$work/acked" "$work/acked-before"
before=$(wc -l <"$work/acked-before")
[ "$before" -gt 0 ] || fail "no registration acknowledged before the backup"
t0=$(date +%s.%N)
YUI_DATABASE_URL=$live yui backup "$work/yui.backup" || fail "yui backup failed"
t1=$(date +%s.%N)
during=$(( $(wc -l <"$work/acked") - before ))
say "backup took $(secs "$t0" "$t1") s under load: $before registrations acknowledged before it, $during while it ran"

if YUI_DATABASE_URL=$live yui restore "$work/yui.backup" 2>"$work/refused"; then
  fail "restore over the database in use was not refused"
fi
grep -q "in use" "$work/refused" || fail "restore over the live database failed for another reason: $(cat "$work/refused")"
say "restore over the live database refused: $(cat "$work/refused")"

sleep 1
touch "$work/stop"
wait $load_pid || fail "the load generator failed"
cat "$work/load.log"

YUI_DATABASE_URL="sqlite://$work/restored.db" yui restore "$work/yui.backup" || fail "yui restore failed"
python3 - "$work/restored.db" "$work/acked-before" <<'EOF' || fail "the restored database is not what was backed up"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
stored = {r[0] for r in db.execute("SELECT id FROM registrations")}
acked = {int(l.split()[0]) for l in open(sys.argv[2]) if l.strip()}
missing = sorted(acked - stored)
print(f"restored: integrity {verdict}; {len(stored)} registrations, {len(acked)} acknowledged before the backup, {len(missing)} of them missing")
sys.exit(0 if verdict == "ok" and not missing else 1)
EOF

HTTP2=$(free_port)
(cd "$work" && YUI_DATABASE_URL="sqlite://$work/restored.db" exec env -u YUI_ADDR YUI_TENANTS_DIR="$root/tenants" \
  YUI_SHUTDOWN_GRACE_SECS=0 "$YUI_BIN" serve --addr "127.0.0.1:$HTTP2" >"$work/restored.log" 2>&1) &
restored_pid=$!
pids+=($restored_pid)
wait_ready "http://127.0.0.1:$HTTP2" $restored_pid || fail "Yui did not serve the restored database"
say "Yui serves the restored database: /readyz 200"
say "passed"
