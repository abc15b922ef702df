#!/usr/bin/env bash
# docker-build.sh ARGS...: `docker build -q ARGS`, quiet: the image ID and the
# legacy builder's deprecation notice (Debian's docker.io has no buildx) are
# dropped; real errors still reach stderr and the exit status.
set -uo pipefail
out=$(docker build -q "$@" 2>&1)
status=$?
if [ "$status" -ne 0 ]; then
  printf '%s\n' "$out" | grep -v -e 'DEPRECATED: The legacy builder' -e 'buildx component' -e 'docs.docker.com/go/buildx' \
    -e 'BuildKit is currently disabled' -e 'environment-variable' >&2
fi
exit "$status"
