#!/usr/bin/env bash
# PostgreSQL failover drill: a primary and a hot standby in synchronous streaming
# replication, Yui serving through a stable address (a TCP forwarder standing in for a
# VIP or PgBouncer), talents registering without pause. The primary is killed, the
# standby promoted, the address repointed; Yui must answer /readyz 200 again without a
# restart, take new registrations, and have lost none it acknowledged.
#
#   bash ops/drills/failover.sh            # from the repository root; 30-60 s
#   YUI_BIN=target/release/yui KEEP=1 bash ops/drills/failover.sh
#
# Needs PostgreSQL 15's server binaries (PGBIN, default /usr/lib/postgresql/15/bin)
# and python3. Run as root, the clusters run as user postgres. Exits non-zero on any
# failure; removes everything it made unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
YUI_BIN=${YUI_BIN:-target/debug/yui}
TALENTS=${TALENTS:-24}
EVENTS=${EVENTS:-40}
started=$(date +%s.%N)

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[failover %6ss] %s\n' "$(secs "$started" "$(date +%s.%N)")" "$*"; }
fail() { say "FAILED: $*"; exit 1; }

[ -x "$PGBIN/initdb" ] || fail "no PostgreSQL server binaries in $PGBIN (set PGBIN)"
command -v python3 >/dev/null || fail "python3 is needed"
if [ ! -x "$YUI_BIN" ]; then
  say "building $YUI_BIN"
  cargo build --locked --bin yui
fi
YUI_BIN=$(realpath "$YUI_BIN")

work=$(mktemp -d /tmp/yui-failover.XXXXXX)
chmod 755 "$work"
if [ "$(id -u)" = 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
  install -d -o postgres -g postgres "$work/pg"
else
  as_pg() { "$@"; }
  mkdir "$work/pg"
fi

pids=()
cleanup() {
  local rc=$?
  touch "$work/stop"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for c in primary standby; do
    [ -f "$work/pg/$c/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$work/pg/$c" stop -m immediate >/dev/null 2>&1 || true
  done
  wait 2>/dev/null || true
  if [ $rc -ne 0 ]; then
    echo "--- yui log (last 30 lines)"; tail -n 30 "$work/yui.log" 2>/dev/null || true
    for c in primary standby; do echo "--- $c log (last 10 lines)"; tail -n 10 "$work/pg/$c.log" 2>/dev/null || true; done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
# Stopped from outside (CI's timeout, Ctrl-C): clean up and fail.
trap 'exit 143' TERM INT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port); FWD=$(free_port); HTTP=$(free_port)
psql_at() { local port=$1; shift; psql -X -q -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }

say "primary on $P1, standby on $P2, stable address $FWD, Yui on $HTTP, in $work"
as_pg "$PGBIN/initdb" -D "$work/pg/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$work/pg/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $P1
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 4
hot_standby = on
synchronous_commit = on
EOF
as_pg "$PGBIN/pg_ctl" -D "$work/pg/primary" -l "$work/pg/primary.log" -w start >/dev/null
psql_at "$P1" -d postgres -c 'CREATE DATABASE yui'

as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$work/pg/standby" -R -X stream --checkpoint=fast
cat >>"$work/pg/standby/postgresql.conf" <<EOF
port = $P2
# The walreceiver's application_name, which the primary's synchronous_standby_names names.
cluster_name = 'standby1'
# Once promoted it has no standby of its own: waiting for one would stop every commit.
synchronous_standby_names = ''
EOF
as_pg "$PGBIN/pg_ctl" -D "$work/pg/standby" -l "$work/pg/standby.log" -w start >/dev/null
# Only now that a standby exists: a commit returns once the standby has its WAL on
# disk, so what Yui acknowledged survives the primary. (Set before, it would hold
# every commit until a standby came. With asynchronous replication the last commits
# before a crash can be lost: REPLICATION=async runs the drill that way. On one
# machine the standby is usually close enough behind that nothing is lost, so a pass
# then proves little; a loss makes the drill fail.)
want=sync
if [ "${REPLICATION:-sync}" = async ]; then
  want=async
else
  psql_at "$P1" -d postgres -c "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby1)'" -c 'SELECT pg_reload_conf()' >/dev/null
fi
for _ in $(seq 1 50); do
  state=$(psql_at "$P1" -d postgres -tAc "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")
  [ "$state" = "$want" ] && break
  sleep 0.2
done
[ "$state" = "$want" ] || fail "the standby did not stream as $want (state: '$state')"
say "standby streaming, $want"

echo "127.0.0.1:$P1" >"$work/target"
python3 ops/drills/forwarder.py "$FWD" "$work/target" >"$work/forwarder.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do grep -q forwarding "$work/forwarder.log" && break; sleep 0.1; done
grep -q forwarding "$work/forwarder.log" || fail "the forwarder did not start: $(cat "$work/forwarder.log")"

base="http://127.0.0.1:$HTTP"
(cd "$work" && exec env -u YUI_ADDR \
  YUI_DATABASE_URL="postgres://postgres@127.0.0.1:$FWD/yui" \
  YUI_TENANTS_DIR="$root/tenants" YUI_SHUTDOWN_GRACE_SECS=0 YUI_LOG=info,sqlx=warn NO_COLOR=1 \
  "$YUI_BIN" serve --demo --addr "127.0.0.1:$HTTP" >"$work/yui.log" 2>&1) &
yui_pid=$!
pids+=($yui_pid)
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "$base/readyz" && break
  kill -0 $yui_pid 2>/dev/null || fail "yui serve exited"
  sleep 0.2
done
curl -sf -o /dev/null "$base/readyz" || fail "Yui did not become ready"
say "Yui ready (demo loaded), pid $yui_pid"

client() { python3 ops/drills/yui_client.py "$@"; }
admin=$(client token "$base" admin@iwate.demo.yui.example yui-demo-2026 iwate)
client events "$base" "$admin" iwate "$EVENTS" >"$work/events"
: >"$work/tokens"
for i in $(seq 1 "$TALENTS"); do
  client token "$base" "$(printf 'talent%03d@demo.yui.example' "$i")" yui-demo-2026 iwate >>"$work/tokens"
done
say "$EVENTS events, $TALENTS talents with API tokens"

: >"$work/acked"
python3 ops/drills/yui_client.py load "$base" iwate "$work/tokens" "$work/events" "$work/acked" "$work/stop" 2>"$work/load.log" &
load_pid=$!
pids+=($load_pid)
sleep 4
before_kill=$(wc -l <"$work/acked")
[ "$before_kill" -gt 0 ] || fail "no registration was acknowledged before the failover"

say "killing the primary ($before_kill registrations acknowledged so far)"
killed_at=$(date +%s.%N)
as_pg "$PGBIN/pg_ctl" -D "$work/pg/primary" stop -m immediate >/dev/null
acked_at_kill=$(wc -l <"$work/acked")
cp "$work/acked" "$work/acked-before-failover"
sleep 1
curl -s -o /dev/null -w '%{http_code}' "$base/readyz" >"$work/readyz-down" || true
say "/readyz with the primary down: $(cat "$work/readyz-down")"
as_pg "$PGBIN/pg_ctl" -D "$work/pg/standby" promote -w >/dev/null
echo "127.0.0.1:$P2" >"$work/target"
say "standby promoted, stable address repointed"

ready=""
for _ in $(seq 1 150); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; then ready=yes; break; fi
  sleep 0.2
done
[ -n "$ready" ] || fail "/readyz did not answer 200 after the failover"
ready_at=$(date +%s.%N)
kill -0 $yui_pid 2>/dev/null || fail "Yui is not the process it was"
say "/readyz 200 again, same process ($(secs "$killed_at" "$ready_at") s after the kill)"

new=0
for _ in $(seq 1 150); do
  new=$(( $(wc -l <"$work/acked") - acked_at_kill ))
  [ "$new" -ge 20 ] && break
  sleep 0.2
done
[ "$new" -ge 20 ] || fail "only $new registrations acknowledged after the failover"
first_new_at=$(date +%s.%N)
say "$new new registrations acknowledged on the new primary"
touch "$work/stop"
wait $load_pid || fail "the load generator failed"
cat "$work/load.log"

# Every registration Yui acknowledged, before and after, is on the new primary.
# (Sorted as text, the order comm compares in.)
cut -d' ' -f1 "$work/acked" | sort >"$work/acked-ids"
psql_at "$P2" -d yui -tAc "SELECT id FROM registrations ORDER BY id" | sed '/^$/d' | sort >"$work/stored-ids"
missing=$(comm -23 "$work/acked-ids" "$work/stored-ids" | wc -l)
total=$(wc -l <"$work/acked-ids")
[ "$missing" = 0 ] || fail "$missing of $total acknowledged registrations are missing on the new primary: $(comm -23 "$work/acked-ids" "$work/stored-ids" | head -5 | tr '\n' ' ')"
dupes=$(sort "$work/acked" | cut -d' ' -f2,3 | sort | uniq -d | wc -l)
[ "$dupes" = 0 ] || fail "$dupes talents were registered twice for one event"
say "all $total acknowledged registrations are on the new primary ($acked_at_kill of them from before the kill)"
say "kill → ready $(secs "$killed_at" "$ready_at") s; kill → 20 new registrations $(secs "$killed_at" "$first_new_at") s"
say "passed"
