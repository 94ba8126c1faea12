#!/usr/bin/env bash
# Builds a local stand-in for the Lambda base image `public.ecr.aws/lambda/provided:al2023-arm64`,
# which cannot be pulled here: Debian's arm64 C library, libgcc and a static busybox (for the
# `RUN mv … && chmod …` that `sam local` adds on top, with the Runtime Interface Emulator from
# the aws-sam-cli wheel). Enough for a Rust `bootstrap` linked against glibc, as Lambda runs it.
#   infra/standin-image.sh TAG     (DOCKER_HOST must point at the daemon)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:?usage: $0 TAG}
if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
work="$root/.local/standin"
rm -rf "$work" && mkdir -p "$work/debs" "$work/rootfs"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update -qq
fi
(cd "$work/debs" && apt-get download -qq libc6:arm64 libgcc-s1:arm64 busybox-static:arm64)
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$work/rootfs"
done
rootfs="$work/rootfs"
mkdir -p "$rootfs/var/task" "$rootfs/var/runtime" "$rootfs/var/rapid" "$rootfs/opt" "$rootfs/tmp" \
  "$rootfs/usr/bin"
chmod 1777 "$rootfs/tmp"
for applet in sh mv chmod cp rm ls cat env mkdir; do
  ln -sf busybox "$rootfs/bin/$applet"
done
cat >"$work/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime PATH=/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 TZ=:/etc/localtime
WORKDIR /var/task
DOCKERFILE
docker build --quiet --platform linux/arm64 -t "$tag" "$work" >/dev/null
echo "==> built $tag (stand-in for provided:al2023-arm64)" >&2
