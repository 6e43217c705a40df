#!/usr/bin/env bash
# `make serve-prod`: the app in production mode on this machine.  A private PostgreSQL and Redis on
# loopback (files in var/prod/), migrations, collectstatic, WORKERS daphne processes on consecutive
# loopback ports, nginx in front on LISTEN:PORT.  Runs in the foreground; Ctrl+C (or
# `make stop-prod` from another shell) stops all of it.
#
# Environment: PORT (8000), LISTEN (127.0.0.1), WORKERS (2), APP_PORT (first daphne port, PORT+1),
# POSTGRES_PORT (5433), REDIS_PORT (6380).  DATABASE_URL / REDIS_URL, when set, are used instead of
# starting PostgreSQL / Redis.  Every DJANGO_* setting (web/settings.py) can be overridden; the
# defaults here are for plain HTTP on this machine (DJANGO_HTTPS=0).
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"
PORT="${PORT:-8000}"
LISTEN="${LISTEN:-127.0.0.1}"
WORKERS="${WORKERS:-2}"
APP_PORT="${APP_PORT:-$((PORT + 1))}"
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
REDIS_PORT="${REDIS_PORT:-6380}"
state="$root/var/prod"
python="$root/.venv/bin/python"
daphne="$root/.venv/bin/daphne"

say() { echo "serve-prod: $*"; }

port_is_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for_port PORT WHAT: 600 tries of 100 ms.
wait_for_port() {
    for _try in $(seq 600); do
        port_is_open "$1" && return 0
        sleep 0.1
    done
    say "$2 did not start listening on port $1"
    return 1
}

for pidfile in "$state"/daphne-*.pid "$state/nginx/nginx.pid"; do
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        say "already running (pid file $pidfile); stop it with: make stop-prod"
        exit 1
    fi
done
for port in "$PORT" $(seq "$APP_PORT" $((APP_PORT + WORKERS - 1))); do
    if port_is_open "$port"; then
        say "port $port is already in use; choose others with PORT=... or APP_PORT=..."
        exit 1
    fi
done

mkdir -p "$state"
cleanup() {
    trap - EXIT INT TERM
    echo
    say "stopping"
    scripts/stop-prod.sh "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # exiting runs the EXIT trap

# One secret key for every process, kept across runs so sessions survive a restart.
if [[ -z "${DJANGO_SECRET_KEY:-}" ]]; then
    [[ -s "$state/secret_key" ]] || (umask 077 && "$python" -c "import secrets; print(secrets.token_urlsafe(50))" >"$state/secret_key")
    DJANGO_SECRET_KEY="$(cat "$state/secret_key")"
fi
export DJANGO_SECRET_KEY
export DJANGO_DEBUG=0
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}"
export DJANGO_HTTPS="${DJANGO_HTTPS:-0}"
export DJANGO_TRUST_X_FORWARDED_PROTO="${DJANGO_TRUST_X_FORWARDED_PROTO:-1}"
export DJANGO_STATIC_ROOT="${DJANGO_STATIC_ROOT:-$root/var/staticfiles}"

if [[ -z "${DATABASE_URL:-}" ]]; then
    say "PostgreSQL on 127.0.0.1:$POSTGRES_PORT (files in var/prod/postgres)"
    DATABASE_URL="$(scripts/start-postgres.sh "$state/postgres" "$POSTGRES_PORT")"
fi
if [[ -z "${REDIS_URL:-}" ]]; then
    say "Redis on 127.0.0.1:$REDIS_PORT (files in var/prod/redis)"
    REDIS_URL="$(scripts/start-redis.sh "$state/redis" "$REDIS_PORT")"
fi
export DATABASE_URL REDIS_URL

say "migrating the database, collecting static files"
"$python" manage.py migrate --noinput -v 0
"$python" manage.py collectstatic --noinput -v 0

upstreams=""
for index in $(seq 0 $((WORKERS - 1))); do
    port=$((APP_PORT + index))
    # A stable name per port: a restarted process resumes its clusters at once (web/ownership.py).
    APP_PROCESS_NAME="$(hostname):$port" "$daphne" -b 127.0.0.1 -p "$port" --proxy-headers web.asgi:application \
        >>"$state/daphne-$index.log" 2>&1 &
    echo $! >"$state/daphne-$index.pid"
    upstreams+="        server 127.0.0.1:$port;"$'\n'
done
for index in $(seq 0 $((WORKERS - 1))); do
    wait_for_port $((APP_PORT + index)) "daphne $index (log: var/prod/daphne-$index.log)"
done

nginx_dir="$state/nginx"
mkdir -p "$nginx_dir/tmp"
user_directive=""
if [[ "$(id -u)" -eq 0 ]]; then
    # nginx's workers drop root; they write request bodies and buffers into tmp/.
    worker_user="$(id -u www-data >/dev/null 2>&1 && echo www-data || echo nobody)"
    user_directive="user $worker_user;"
    chown "$worker_user" "$nginx_dir/tmp"
fi
UPSTREAMS="$upstreams" USER_DIRECTIVE="$user_directive" NGINX_DIR="$nginx_dir" STATIC_ROOT="$DJANGO_STATIC_ROOT" \
    LISTEN="$LISTEN" PORT="$PORT" "$python" - scripts/nginx.conf.template "$nginx_dir/nginx.conf" <<'PY'
import os, sys
text = open(sys.argv[1]).read()
for name in ("UPSTREAM_SERVERS", "USER_DIRECTIVE", "NGINX_DIR", "STATIC_ROOT", "LISTEN", "PORT"):
    text = text.replace(f"@{name}@", os.environ["UPSTREAMS" if name == "UPSTREAM_SERVERS" else name].rstrip("\n"))
open(sys.argv[2], "w").write(text)
PY
nginx -t -q -c "$nginx_dir/nginx.conf" -p "$nginx_dir" -e "$nginx_dir/error.log"
nginx -c "$nginx_dir/nginx.conf" -p "$nginx_dir" -e "$nginx_dir/error.log"
wait_for_port "$PORT" nginx

say "serving http://$LISTEN:$PORT/  ($WORKERS daphne processes on ports $APP_PORT..$((APP_PORT + WORKERS - 1)), logs in var/prod/)"
say "Ctrl+C or \`make stop-prod\` stops everything"
# Until a daphne exits (Ctrl+C, make stop-prod, a crash); then the EXIT trap stops the rest.
set +e
wait -n
[[ -f "$nginx_dir/nginx.pid" ]] && say "a daphne process exited; see var/prod/daphne-*.log"
exit 0
