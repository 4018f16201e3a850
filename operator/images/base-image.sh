#!/usr/bin/env bash
# Makes a local base image with a Java 17 runtime from Debian's packages, for machines where no image registry
# answers (this project's CI): debootstrap bookworm (minbase + openjdk-17-jre-headless and the trainer's libtcmalloc-minimal4, about 1.5 min, 480 MB),
# imported as localhost/fedtune-base:bookworm-2. Does nothing when the image exists. Needs root, debootstrap and
# Debian's mirror. Then: operator/images/build.sh --base localhost/fedtune-base:bookworm-2 trainer operator
#   operator/images/base-image.sh [IMAGE]
set -euo pipefail
image="${1:-localhost/fedtune-base:bookworm-2}"
tool="${CONTAINER_TOOL:-podman}"
read -r -a global_opts <<< "${CONTAINER_GLOBAL_OPTS:-}"
if "$tool" "${global_opts[@]}" image inspect "$image" >/dev/null 2>&1; then
  echo "base-image.sh: $image exists"
  exit 0
fi
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/fedtune-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
debootstrap --variant=minbase --include=openjdk-17-jre-headless,libtcmalloc-minimal4 bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; echo "base-image.sh: debootstrap failed" >&2; exit 1; }
# apt's lists and caches are not needed at run time
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/cache/apt/archives/"*.deb
tar -C "$work/rootfs" -c . | "$tool" "${global_opts[@]}" import - "$image" >/dev/null
echo "base-image.sh: made $image in $((SECONDS - start)) s"
