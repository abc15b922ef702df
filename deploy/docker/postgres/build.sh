#!/usr/bin/env bash
# build.sh IMAGE: build a PostgreSQL 15 image from Debian's own packages, for
# machines that cannot pull the official image. A minimal Debian bookworm root
# filesystem (debootstrap --variant=minbase, from the machine's own Debian
# mirror) gets postgresql-15 installed in a chroot, is imported as a base
# image, and deploy/docker/postgres/Dockerfile adds the entrypoint, user and
# labels on top. The root filesystem tarball is cached (CACHE_DIR, keyed by
# this script), and the image is rebuilt only when this directory changes, so
# re-runs take seconds.
set -euo pipefail
image=${1:?usage: build.sh IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
cache=${CACHE_DIR:-/var/cache/orderflow}
suite=bookworm
packages=postgresql-15
# The recipe's hash: a change to the script, entrypoint or Dockerfile rebuilds
# the image; a change to this script also rebuilds the root filesystem.
recipe=$(cat "$here"/* | sha256sum | cut -c1-16)
rootfs_recipe=$(sha256sum "$here/build.sh" | cut -c1-16)

if [ "$(docker image inspect -f '{{index .Config.Labels "org.orderflow.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]; then
  echo "postgres image $image is up to date"
  exit 0
fi

# mirror: DEBIAN_MIRROR, else the first Debian archive in the apt sources.
mirror=${DEBIAN_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n1 | tr -d ' ' || true)}
mirror=${mirror:-http://deb.debian.org/debian}

rootfs_tar="$cache/postgres-$suite-rootfs-$rootfs_recipe.tar"
base="orderflow/postgres-rootfs:$suite-$rootfs_recipe"
mkdir -p "$cache"
if [ ! -s "$rootfs_tar" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
  dir=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'umount "$dir/proc" 2>/dev/null || true; rm -rf "$dir"' EXIT
  echo "debootstrap $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  mount -t proc proc "$dir/proc"
  # No cluster from the package: the entrypoint runs initdb in PGDATA.
  mkdir -p "$dir/etc/postgresql-common/createcluster.d"
  echo "create_main_cluster = false" >"$dir/etc/postgresql-common/createcluster.d/no-main.conf"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d" && chmod +x "$dir/usr/sbin/policy-rc.d"
  chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >"$cache/apt.log" 2>&1 ||
    { tail -n 20 "$cache/apt.log" >&2; exit 1; }
  umount "$dir/proc"
  # Trim what the server does not run: the JIT (LLVM and Z3, 130 MB; the
  # entrypoint sets jit=off) and Perl (postgresql-common's wrappers; the
  # image calls PostgreSQL's own binaries). dpkg's database stays honest.
  chroot "$dir" sh -c '
    dpkg --purge --force-depends libllvm14 libz3-4 perl perl-modules-5.36 libperl5.36 >/dev/null 2>&1
    rm -rf /usr/lib/postgresql/*/lib/bitcode /usr/lib/postgresql/*/lib/llvmjit*
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /usr/share/doc/* /usr/share/man/* /usr/share/locale/* /usr/share/i18n /usr/sbin/policy-rc.d
    mkdir -p /var/lib/postgresql/data /run/postgresql
    chown postgres:postgres /var/lib/postgresql/data /run/postgresql && chmod 700 /var/lib/postgresql/data && chmod 2775 /run/postgresql'
  rm -f "$cache"/postgres-"$suite"-rootfs-*.tar
  tar -C "$dir" --numeric-owner -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$dir"; trap - EXIT
fi
if ! docker image inspect "$base" >/dev/null 2>&1; then
  # Base images of older recipes go first.
  old=$(docker images orderflow/postgres-rootfs --format '{{.Repository}}:{{.Tag}}')
  [ -z "$old" ] || docker rmi $old >/dev/null 2>&1 || true
  docker import "$rootfs_tar" "$base" >/dev/null
fi
# The postgres user's numeric id in that root filesystem, for a numeric USER.
uid=$(tar -xOf "$rootfs_tar" ./etc/passwd | awk -F: '$1=="postgres"{print $3}')
gid=$(tar -xOf "$rootfs_tar" ./etc/passwd | awk -F: '$1=="postgres"{print $4}')
version=$(tar -tf "$rootfs_tar" | grep -oE '^\./usr/lib/postgresql/[0-9]+/bin/postgres$' | head -n1 | cut -d/ -f5)
"$here/../docker-build.sh" -t "$image" --build-arg BASE="$base" --build-arg UID="$uid" --build-arg GID="$gid" \
  --build-arg PG_MAJOR="$version" --label org.orderflow.recipe="$recipe" "$here"
docker image prune -f --filter "label=org.orderflow.recipe" >/dev/null
echo "built $image (PostgreSQL $version from Debian $suite, uid $uid)"
