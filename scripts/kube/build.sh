#!/usr/bin/env bash
# Builds kube-apiserver for the real-API-server test tier (docs/testing.md,
# "Kubernetes tier") from the Go module proxy into a cache outside the repo:
#   ${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}/<version>/kube-apiserver
# Does nothing when that binary is already there. Nothing built is committed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache="${TRANTOR_KUBE_CACHE:-$HOME/.cache/trantor-k8s}/$KUBE_VERSION"
binary="$cache/kube-apiserver"
if [ -x "$binary" ]; then
  echo "kube-apiserver $KUBE_VERSION: cached at $binary"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: the go tool is needed to build kube-apiserver" >&2; exit 1; }
# The installed toolchain, modules from the proxy alone (no VCS fallback).
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
proxy=$(go env GOPROXY)
export GOPROXY="${proxy%,direct}"
export CGO_ENABLED=0

# The committed go.mod is for KUBE_VERSION; regenerate it when the variable moved.
if ! grep -q "^require k8s.io/kubernetes $KUBE_VERSION\$" "$here/go.mod"; then
  echo "build.sh: regenerating scripts/kube/go.mod for $KUBE_VERSION (commit it)"
  "$here/gomod.sh" "$KUBE_VERSION" > "$here/go.mod.new"
  mv "$here/go.mod.new" "$here/go.mod"
  rm -f "$here/go.sum"
fi

# Build in a copy so that -mod=mod never rewrites the checkout.
work="$cache/module"
mkdir -p "$work"
cp "$here/go.mod" "$work/go.mod"
if [ -f "$here/go.sum" ]; then cp "$here/go.sum" "$work/go.sum"; else rm -f "$work/go.sum"; fi

minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"

echo "build.sh: building kube-apiserver $KUBE_VERSION (about 6 minutes on 2 idle cores)"
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$binary.partial" k8s.io/kubernetes/cmd/kube-apiserver)
mv "$binary.partial" "$binary"
"$binary" --version
