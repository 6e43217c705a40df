#!/usr/bin/env bash
# Start a private Redis on 127.0.0.1:PORT with its files in DIR and print its REDIS_URL.
# Usage: scripts/start-redis.sh DIR PORT
#
# DIR/redis.pid, DIR/log; snapshots (dump.rdb) in DIR.  Redis holds nothing that must survive
# (channel-layer messages, cache entries), so it saves no snapshots.  Stop it with
# scripts/stop-prod.sh or `kill $(cat DIR/redis.pid)`.
set -euo pipefail

dir="${1:?usage: $0 DIR PORT}"
port="${2:?usage: $0 DIR PORT}"
command -v redis-server >/dev/null 2>&1 \
    || { echo "start-redis: redis-server is not installed (Debian: apt-get install redis-server)" >&2; exit 1; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
rm -f "$dir/redis.pid"

redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/log" --protected-mode yes

# Bounded wait: 200 tries of 50 ms until it answers PING.
for _try in $(seq 200); do
    if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == "PONG" ]]; then
        echo "redis://127.0.0.1:$port/0"
        exit 0
    fi
    sleep 0.05
done
echo "start-redis: no answer on port $port; its log:" >&2
tail -n 20 "$dir/log" >&2 || true
exit 1
