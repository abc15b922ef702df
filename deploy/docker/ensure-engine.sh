#!/usr/bin/env bash
# ensure-engine.sh: make a Docker engine answer on this machine, idempotently.
# Installs Debian's docker.io (and debootstrap, for the PostgreSQL image, and
# docker-compose, for deploy/compose) when missing, then starts dockerd as root
# with no bridge network and no iptables rules: every container of this
# project runs with host networking and talks over loopback only.
# Fast when the engine already answers (one `docker version`).
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/orderflow-dockerd.log}

if docker version >/dev/null 2>&1; then
  exit 0
fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-engine: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-engine: starting dockerd (log: $log)"
  # setsid: the engine outlives this script and the CI step that ran it.
  setsid dockerd --bridge=none --iptables=false --ip-masq=false >>"$log" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
  if docker version >/dev/null 2>&1; then
    echo "ensure-engine: engine up ($(docker version -f '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
echo "ensure-engine: dockerd did not answer within 30s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
