#!/usr/bin/env bash
# The PostgreSQL peer of the intake benchmark (`cxkpi-bench serve`): Debian's
# PostgreSQL, one INSERT per answer, synchronous_commit = on (the default, so a commit
# returns once its WAL is flushed), 64 clients for SECONDS, with pgbench. Prints the
# transactions per second and the latency percentiles from pgbench's per-transaction
# log.
#
# Usage: crates/bench/postgres/intake.sh [SECONDS]   (as root: it runs postgres as the
# postgres user in a scratch cluster that it removes afterwards)
set -euo pipefail
seconds="${1:-10}"
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
dir="$(mktemp -d)"
chown postgres "$dir"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
as_pg "$bin/initdb" -D "$dir/data" -A trust >/dev/null
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = 100
synchronous_commit = on
fsync = on
shared_buffers = 256MB
CONF
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
as_pg "$bin/psql" -h "$dir" -d postgres -q -c "
    create table responses (
        response_id text primary key,
        survey text not null,
        score int not null,
        customer_id text,
        responded_at timestamptz not null,
        touchpoint text
    );"
cat >"$dir/insert.sql" <<'SQL'
\set n random(1, 1000000000)
\set score random(0, 10)
insert into responses values ('bench-' || :client_id || '-' || :n || '-' || random(), 'nps', :score, 'C' || lpad((:n % 1000000)::text, 7, '0'), now(), 'bench');
SQL
cd "$dir"
as_pg "$bin/pgbench" -h "$dir" -n -c 64 -j 2 -T "$seconds" -f "$dir/insert.sql" \
    --log --log-prefix="$dir/tx" postgres 2>&1 | grep -E "^(number of transactions actually processed|latency average|tps)"
cat "$dir"/tx* | awk '{print $3 / 1000}' | sort -n | awk '
    { v[NR] = $1 }
    END {
        p50 = v[int(NR * 0.50 + 0.999999)]; p99 = v[int(NR * 0.99 + 0.999999)];
        printf "pgbench latency from the log: n %d  p50 %.2f ms  p99 %.2f ms\n", NR, p50, p99
    }'
