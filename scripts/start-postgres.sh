#!/usr/bin/env bash
# Start a private PostgreSQL on 127.0.0.1:PORT with its files in DIR, creating it on first use,
# and print its DATABASE_URL.  Usage: scripts/start-postgres.sh DIR PORT
#
# DIR/data is the cluster, DIR/password the generated password of its superuser "app", DIR/log the
# server log; the database is "app".  Only TCP on loopback, no Unix socket, password (SCRAM)
# authentication.  PostgreSQL refuses to run as root: as root the server runs as the "postgres"
# user (Debian's package creates it), which then owns DIR.  Stop it with scripts/stop-prod.sh or
# `kill -INT $(head -1 DIR/data/postmaster.pid)`.
set -euo pipefail

dir="${1:?usage: $0 DIR PORT}"
port="${2:?usage: $0 DIR PORT}"
database=app
user=app

find_bindir() {
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    # Debian keeps the server binaries out of PATH, one directory per major version.
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$newest" ]] || { echo "start-postgres: PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2; exit 1; }
    echo "$newest"
}

bindir="$(find_bindir)"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
as_server=()
if [[ "$(id -u)" -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || { echo "start-postgres: running as root needs a 'postgres' user to run the server" >&2; exit 1; }
    chown postgres: "$dir"
    chmod 700 "$dir"
    as_server=(runuser -u postgres --)
    if ! runuser -u postgres -- test -w "$dir"; then
        echo "start-postgres: user postgres cannot reach $dir (a parent directory is closed to it)" >&2
        exit 1
    fi
fi
run() { "${as_server[@]}" "$@"; }

if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    run sh -c "umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$dir/password'"
    run "$bindir/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/password" --auth=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { echo "start-postgres: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
fi
password="$(cat "$dir/password")"

if ! run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=''" start >/dev/null; then
    echo "start-postgres: the server did not start; its log:" >&2
    tail -n 20 "$dir/log" >&2
    exit 1
fi

export PGPASSWORD="$password"
exists="$("$bindir/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$database'")"
if [[ "$exists" != "1" ]]; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$database"
fi
echo "postgres://$user:$password@127.0.0.1:$port/$database"
