#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests, on a private socket folder (no TCP port), with fsync off:
#   scripts/test_postgres.sh start DIR [--durable]   # DIR/url then holds its URL; tests make a database each
#   scripts/test_postgres.sh stop DIR
# --durable keeps PostgreSQL's defaults (fsync on, synchronous commits), for benchmarks of durable commits.
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (runuser).
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a folder}
fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${3:-}" = --durable ] && fast=""
BIN=/usr/lib/postgresql/15/bin
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
case $cmd in
  start)
    if [ ! -x "$BIN/pg_ctl" ]; then
      echo "test_postgres: PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15)" >&2
      exit 1
    fi
    [ -f "$dir/data/postmaster.pid" ] && "${as[@]}" "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    mkdir -p "$dir/sock"
    if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
    "${as[@]}" "$BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    "${as[@]}" "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir/sock -c listen_addresses='' $fast -c max_connections=300 -c shared_buffers=64MB" \
      start >/dev/null
    echo "postgresql://postgres@/postgres?host=$dir/sock" >"$dir/url"
    echo "test_postgres: a server for the tests at $dir/sock"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then "${as[@]}" "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "test_postgres: start or stop, not $cmd" >&2
    exit 2
    ;;
esac
