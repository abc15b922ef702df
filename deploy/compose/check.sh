#!/usr/bin/env bash
# check.sh: bring deploy/compose up on free loopback ports, pass one order
# through the HTTP API to "shipped", and tear everything down (CI runs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compose=${COMPOSE:-docker-compose}
project=orderflow-check-$$

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}
export PG_PORT=$(free_port) NATS_PORT=$(free_port) TEMPORAL_PORT=$(free_port) \
  TEMPORAL_UI_PORT=$(free_port) TEMPORAL_HTTP_PORT=$(free_port) API_PORT=$(free_port) \
  API_OPS_PORT=$(free_port) BRIDGE_OPS_PORT=$(free_port) ORDER_WORKER_OPS_PORT=$(free_port) \
  SHIPPING_WORKER_OPS_PORT=$(free_port) PROJECTOR_OPS_PORT=$(free_port)
api="http://127.0.0.1:$API_PORT"
dc() { $compose -p "$project" -f "$here/compose.yaml" "$@"; }

down() {
  status=$?
  if [ "$status" -ne 0 ]; then dc logs --no-color --tail=30 >&2 || true; fi
  dc down -v --remove-orphans >/dev/null 2>&1 || true
  exit "$status"
}
trap down EXIT

dc up -d --quiet-pull 2>&1 | grep -v -i "deprecat" || true
for i in $(seq 1 120); do
  if curl -fsS "$api/readyz" >/dev/null 2>&1; then break; fi
  [ "$i" -lt 120 ] || { echo "compose: API not ready after 60s" >&2; exit 1; }
  sleep 0.5
done
[ "$(dc ps -q migrate | xargs docker inspect -f '{{.State.ExitCode}}')" = 0 ] || { echo "compose: migrate did not succeed" >&2; exit 1; }

order="compose-$(date +%s)-$$"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$api/orders/$order/start" \
  -H 'Content-Type: application/json' -d '{"payment_id": "payment-'"$order"'"}')
[ "$code" = 202 ] || { echo "compose: start returned $code, want 202" >&2; exit 1; }
for i in $(seq 1 120); do
  body=$(curl -fsS "$api/orders/$order" 2>/dev/null || true)
  if echo "$body" | grep -q '"state": *"shipped"'; then
    echo "compose: order $order shipped through the compose deployment"
    exit 0
  fi
  [ "$i" -lt 120 ] || { echo "compose: order not shipped after 60s: $body" >&2; exit 1; }
  sleep 0.5
done
