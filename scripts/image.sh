#!/usr/bin/env bash
# `make image`: build the CPU image with podman on a machine of this project's kind, where no
# container registry is reachable. Idempotent; a rerun whose inputs are unchanged returns at once.
#
#   bash scripts/image.sh            # build (or reuse) ghcr.io/codeinstruct/codeinstruct:0.1.0
#   bash scripts/image.sh --force    # rebuild even when the image's content label matches
#   bash scripts/image.sh --hash     # print the content hash of the build inputs and exit
#
# Steps (docs/deployment.md, "Image"):
#   1. podman, runc and mmdebstrap from apt (as scripts/setup/*.sh install what they need), and a
#      containers.conf drop-in: runtime runc (crun 1.8 refuses this kernel's hybrid cgroups) and
#      default ulimits within root's hard limits (podman's defaults exceed them);
#   2. the base image: a Debian bookworm minbase rootfs with python3 made by mmdebstrap from the
#      Debian mirror apt already uses, `podman import`ed as $BASE_IMAGE (the Dockerfile's
#      PYTHON_IMAGE build argument);
#   3. `podman build` of the CPU target with the host's CA bundle, a pip.conf and the local wheel
#      directory (torch's CPU wheel) mounted into the RUN steps only: none of them is in the image;
#   4. the image is labelled (INPUTS_HASH build argument, in the last step) with a hash of its
#      inputs (Dockerfile, .dockerignore, pyproject.toml, README.md, services/, pipelines/,
#      scripts/setup/, build arguments); tests/deploy/test_image.py calls this script and so reuses
#      an image whose label matches.
#
# Exit status 77: podman cannot be set up on this machine (not root, or no apt-get); the image test
# then skips, naming the reason. Any other failure is an error.
#
# Environment: CODEINSTRUCT_IMAGE (tag to build), CODEINSTRUCT_BASE_IMAGE, CODEINSTRUCT_WHEELS (a
# directory of wheels pip may take, default: pip's own find-links, where this machine keeps torch's
# CPU wheel), TORCH_CPU_INDEX (extra index for the CPU torch; empty here: it does not resolve).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${CODEINSTRUCT_IMAGE:-ghcr.io/codeinstruct/codeinstruct:0.1.0}
BASE_IMAGE=${CODEINSTRUCT_BASE_IMAGE:-localhost/codeinstruct-base:bookworm-python3}
SUITE=bookworm
BASE_PACKAGES=python3,python3-venv,ca-certificates,netbase,tzdata
TORCH_CPU_INDEX=${TORCH_CPU_INDEX-}
HASH_LABEL=io.codeinstruct.inputs-sha256
CONF_DROPIN=/etc/containers/containers.conf.d/50-codeinstruct.conf

say() { echo "image: $*"; }
die() { echo "image: $*" >&2; exit "${2:-1}"; }

force=0
build=""
case "${1:-}" in
  --force) force=1 ;;
  --hash) hash_only=1 ;;
  --base-only) ;;
  "") ;;
  *) die "unknown argument $1 (use --force or --hash)" 2 ;;
esac

# Where pip finds local wheels (this machine's torch CPU wheel lies in pip's find-links).
wheels_dir() {
  if [ -n "${CODEINSTRUCT_WHEELS:-}" ]; then echo "$CODEINSTRUCT_WHEELS"; return; fi
  local links
  links=$(python3 -m pip config get global.find-links 2>/dev/null || true)
  links=${PIP_FIND_LINKS:-$links}
  for dir in $links; do
    dir=${dir#file://}
    if [ -d "$dir" ]; then echo "$dir"; return; fi
  done
}

# Content hash of everything the build reads: the context as .dockerignore admits it + build args.
inputs_hash() {
  {
    find Dockerfile .dockerignore pyproject.toml README.md services pipelines scripts/setup -type f \
      ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path '*/.mypy_cache/*' ! -path '*/.ruff_cache/*' \
      ! -path '*/.pytest_cache/*' ! -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    echo "PYTHON_IMAGE=$BASE_IMAGE TORCH_CPU_INDEX=$TORCH_CPU_INDEX"
    ls -l "$(wheels_dir)" 2>/dev/null || true
  } | sha256sum | cut -c1-32
}

if [ "${hash_only:-0}" = 1 ]; then inputs_hash; exit 0; fi

# ---- 1. podman, runc, mmdebstrap and their configuration -------------------------------------------
install_tools() {
  local need=()
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
  [ ${#need[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing ${need[*]}; install them (Debian: apt-get install ${need[*]}) or run this as root on Debian" 77
  fi
  say "installing ${need[*]} with apt-get"
  local log
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
           "${need[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    die "apt-get install ${need[*]} failed (output above)"
  fi
  rm -f "$log"
}

configure_podman() {
  [ "$(id -u)" = 0 ] || die "podman is configured and run as root here (rootful storage); run as root" 77
  local nofile nproc want
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=32768
  [ "$nproc" -gt 32768 ] && nproc=32768
  want=$(cat <<CONF
# Written by codeinstruct scripts/image.sh. crun 1.8 refuses this kernel's hybrid cgroups: use runc.
# podman's default ulimits (nofile 1048576) exceed root's hard limits here: stay within them.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
CONF
)
  if [ "$(cat "$CONF_DROPIN" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$CONF_DROPIN")"
    printf '%s\n' "$want" > "$CONF_DROPIN"
    say "wrote $CONF_DROPIN (runtime runc, nofile $nofile, nproc $nproc)"
  fi
  podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null | grep -qx runc \
    || die "podman does not use runc after writing $CONF_DROPIN: $(podman info 2>&1 | tail -3)"
}

# ---- 2. the base image -------------------------------------------------------------------------------
debian_mirror() {
  # The mirror apt uses for Debian itself (deb822 or one-line sources).
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 2>/dev/null \
        | grep -v -- '-security' | grep -m1 '/debian/\?$' || true)
  echo "${uri:-http://deb.debian.org/debian/}"
}

build_base() {
  if podman image exists "$BASE_IMAGE"; then return; fi
  local mirror security work started
  mirror=$(debian_mirror); mirror=${mirror%/}
  security=${mirror%/debian}/debian-security
  work=$(mktemp -d)
  started=$SECONDS
  say "making the base rootfs ($SUITE minbase + $BASE_PACKAGES) from $mirror with mmdebstrap"
  # As the official slim images: no docs or man pages (but empty man1-8, which some postinst
  # scripts expect), no apt cache, no recommends.
  if ! nice -n 10 mmdebstrap --variant=minbase --include="$BASE_PACKAGES" --format=tar \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*' \
      --aptopt='APT::Install-Recommends "false"' \
      --customize-hook='mkdir -p "$1"/usr/share/man/man1 "$1"/usr/share/man/man2 "$1"/usr/share/man/man3 "$1"/usr/share/man/man4 "$1"/usr/share/man/man5 "$1"/usr/share/man/man6 "$1"/usr/share/man/man7 "$1"/usr/share/man/man8' \
      --customize-hook='printf "%s\n" "DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true\"; };" "Binary::apt::APT::Keep-Downloaded-Packages \"false\";" > "$1"/etc/apt/apt.conf.d/docker-clean' \
      "$SUITE" "$work/rootfs.tar" \
      "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" "deb $security $SUITE-security main" \
      >"$work/mmdebstrap.log" 2>&1; then
    cat "$work/mmdebstrap.log" >&2; rm -rf "$work"
    die "mmdebstrap failed (output above)"
  fi
  podman import --quiet --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    "$work/rootfs.tar" "$BASE_IMAGE" >/dev/null
  rm -rf "$work"
  say "base image $BASE_IMAGE in $((SECONDS - started)) s"
}

# ---- 3. the image ------------------------------------------------------------------------------------
build_image() {
  local hash current wheels started ca
  hash=$(inputs_hash)
  current=$(podman image inspect --format "{{index .Labels \"$HASH_LABEL\"}}" "$IMAGE" 2>/dev/null || true)
  if [ "$force" = 0 ] && [ "$current" = "$hash" ]; then
    say "$IMAGE is up to date (inputs $hash)"
    return
  fi
  wheels=$(wheels_dir)
  ca=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
  [ -r "$ca" ] || die "no CA bundle at $ca (set PIP_CERT)"
  # A fixed path: buildah's layer cache keys on the --volume source.
  build=/var/tmp/codeinstruct-image-build
  rm -rf "$build"; mkdir -p "$build"
  trap 'rm -rf "$build"' EXIT
  # One directory mounted into the RUN steps only (podman build --volume): the CA bundle, a pip.conf
  # (named by the PIP_CONFIG_FILE build argument) and the local wheels. None of it is in a layer;
  # buildah leaves the empty mount point /run/codeinstruct-build behind.
  cp "$ca" "$build/ca-certificates.crt"
  {
    echo "[global]"
    echo "cert = /run/codeinstruct-build/ca-certificates.crt"
    echo "timeout = ${PIP_DEFAULT_TIMEOUT:-60}"
    if [ -n "$wheels" ]; then echo "find-links = /run/codeinstruct-build/wheels"; fi
  } > "$build/pip.conf"
  if [ -n "$wheels" ]; then
    cp -al "$wheels" "$build/wheels" 2>/dev/null || cp -a "$wheels" "$build/wheels"
  fi
  started=$SECONDS
  say "building $IMAGE (inputs $hash; local wheels: ${wheels:-none})"
  nice -n 10 podman build --pull=never --layers --format oci \
    --build-arg FLAVOR=cpu --build-arg "PYTHON_IMAGE=$BASE_IMAGE" --build-arg "TORCH_CPU_INDEX=$TORCH_CPU_INDEX" \
    --build-arg PIP_CONFIG_FILE=/run/codeinstruct-build/pip.conf --volume "$build:/run/codeinstruct-build:ro" \
    --build-arg "INPUTS_HASH=$hash" --tag "$IMAGE" --file Dockerfile . \
    || die "podman build failed (output above)"
  say "built $IMAGE in $((SECONDS - started)) s, $(podman image inspect --format '{{.Size}}' "$IMAGE" \
       | awk '{printf "%.2f GB", $1 / 1e9}')"
}

install_tools
configure_podman
build_base
[ "${1:-}" = --base-only ] && exit 0
build_image
