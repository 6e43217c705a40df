#!/usr/bin/env bash
# Stop what scripts/serve-prod.sh started: nginx, the daphne processes, Redis, PostgreSQL.
# Usage: scripts/stop-prod.sh [STATE_DIR]   (default var/prod).  Safe to run twice.
# Only processes named in STATE_DIR's pid files, and only if they still are what was started there.
set -uo pipefail

cd "$(dirname "$0")/.."
state="${1:-var/prod}"
[[ -d "$state" ]] || exit 0
# serve-prod's own exit and `make stop-prod` may both get here: one at a time.
exec 9>"$state/.stop.lock"
flock 9

# stop_pid PIDFILE NAME SIGNAL: NAME must appear in the process's command line (a pid reused by an
# unrelated process is left alone).  Waits up to 15 s, then SIGKILL.
stop_pid() {
    local pidfile="$1" name="$2" signal="$3" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(head -n 1 "$pidfile" | tr -dc 0-9)"
    if [[ -n "$pid" ]] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$name"; then
        kill -s "$signal" "$pid" 2>/dev/null
        for _try in $(seq 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "stop-prod: $name ($pid) did not stop on SIG$signal; killing it" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        echo "stop-prod: stopped $name ($pid)"
    fi
    # PostgreSQL removes its own pid file; the others are ours.
    [[ "$pidfile" == */postmaster.pid ]] || rm -f "$pidfile"
}

stop_pid "$state/nginx/nginx.pid" nginx QUIT          # graceful: finishes the requests under way
for pidfile in "$state"/daphne-*.pid; do
    [[ -e "$pidfile" ]] && stop_pid "$pidfile" daphne TERM
done
stop_pid "$state/redis/redis.pid" redis-server TERM
stop_pid "$state/postgres/data/postmaster.pid" postgres INT   # "fast" shutdown: a clean checkpoint
exit 0
