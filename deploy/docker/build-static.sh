#!/usr/bin/env bash
# build-static.sh KIND BINARY IMAGE VERSION: a FROM scratch image of one
# static binary (deploy/docker/KIND.Dockerfile) with a writable /data and
# /tmp owned by the image's user.
set -euo pipefail
kind=$1 bin=$2 image=$3 version=$4
here=$(cd "$(dirname "$0")" && pwd)
ctx=$(dirname "$bin")/image-context/$kind
rm -rf "$ctx" && mkdir -p "$ctx/rootfs/data" "$ctx/rootfs/tmp"
chmod 1777 "$ctx/rootfs/tmp"
ln -f "$bin" "$ctx/app"
"$here/docker-build.sh" -f "$here/$kind.Dockerfile" --build-arg VERSION="$version" -t "$image" "$ctx"
echo "built $image"
