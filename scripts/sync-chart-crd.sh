#!/usr/bin/env bash
# Copies the SeldonDeployment CRD (generated from src/runtime/kubernetes/crd.ts) into the Helm chart,
# so the chart ships exactly the CRD the operator is built against. test/kube/chart.test.ts fails
# when the two differ; run this after `UPDATE_GOLDEN=1 node --import tsx --test src/runtime/kubernetes/crd.test.ts`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cp "$root/src/runtime/kubernetes/crd.yaml" "$root/charts/trantor/files/crd.yaml"
echo "charts/trantor/files/crd.yaml updated from src/runtime/kubernetes/crd.yaml"
