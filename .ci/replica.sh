#!/usr/bin/env bash
# A real streaming replica of the local test cluster, for the `replica` tests.
# Usage: .ci/replica.sh start PORT DIR | .ci/replica.sh stop DIR
set -euo pipefail
action=$1
if [ "$action" = stop ]; then
  dir=$2
  [ -f "$dir/postmaster.pid" ] && su postgres -c "$(ls -d /usr/lib/postgresql/*/bin | tail -1)/pg_ctl -D '$dir' -m fast -w stop" >/dev/null || true
  rm -rf "$dir"
  exit 0
fi
port=$2 dir=$3
version=$(ls /etc/postgresql | tail -1)
conf=/etc/postgresql/$version/main
bin=/usr/lib/postgresql/$version/bin
# The primary must stream to a standby: wal_level replica (or logical), WAL senders, and a
# replication entry for postgres from 127.0.0.1. Added once; a reload is enough for pg_hba.
psql_primary() { psql -h 127.0.0.1 -p 5432 -U postgres -Atqc "$1"; }
[ "$(psql_primary 'SHOW wal_level')" != minimal ] || { echo "wal_level is minimal: set it to replica and restart PostgreSQL" >&2; exit 1; }
[ "$(psql_primary 'SHOW max_wal_senders')" -gt 0 ] || { echo "max_wal_senders is 0: raise it and restart PostgreSQL" >&2; exit 1; }
if ! grep -Eq '^host[[:space:]]+replication[[:space:]]+postgres[[:space:]]+127\.0\.0\.1/32' "$conf/pg_hba.conf"; then
  echo "host replication postgres 127.0.0.1/32 trust" >>"$conf/pg_hba.conf"
  psql_primary 'SELECT pg_reload_conf()' >/dev/null
fi
rm -rf "$dir"
mkdir -p "$dir" && chown postgres: "$dir" && chmod 700 "$dir"
su postgres -c "$bin/pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D '$dir' -R -X stream -c fast"
# The copy carries the primary's includes and sockets: its own port, no Debian conf paths.
su postgres -c "$bin/pg_ctl -D '$dir' -w -t 60 -l '$dir/log' -o \"-p $port -k /tmp -c hot_standby=on -c config_file=$dir/postgresql.auto.conf -c hba_file=$conf/pg_hba.conf -c ident_file=$conf/pg_ident.conf -c listen_addresses=127.0.0.1 -c data_directory=$dir\" start" >/dev/null
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p "$port" -q && break; sleep 1; done
[ "$(psql -h 127.0.0.1 -p "$port" -U postgres -Atqc 'SELECT pg_is_in_recovery()')" = t ]
echo "replica on 127.0.0.1:$port (in recovery)"
