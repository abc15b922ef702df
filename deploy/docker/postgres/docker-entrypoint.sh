#!/bin/sh
# Initialises PGDATA on first start the way the official image does, then
# runs the command (postgres and its flags).
set -eu
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  password=${POSTGRES_PASSWORD:-}
  auth=${POSTGRES_HOST_AUTH_METHOD:-}
  if [ -z "$auth" ]; then
    if [ -n "$password" ]; then auth=scram-sha-256; else auth=trust; fi
  fi
  mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$password" >"$pwfile"
  if [ -n "$password" ]; then pwopt="--pwfile=$pwfile"; else pwopt=""; fi
  initdb -D "$PGDATA" -U "$user" -E UTF8 --auth-local=trust --auth-host="$auth" $pwopt >/dev/null
  rm -f "$pwfile"
  echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
  # No JIT: the image leaves LLVM out.
  printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "entrypoint: initialised $PGDATA (user $user, database $db, host auth $auth)"
fi
exec "$@"
