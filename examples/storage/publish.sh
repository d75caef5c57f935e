#!/usr/bin/env bash
# Publishes the iris model (../iris/model/model.joblib) to a local object store and applies a
# SeldonDeployment that loads it from there:
#
#   ./publish.sh s3    # an S3-compatible server (versitygw, MinIO) at $S3_ENDPOINT
#   ./publish.sh gcs   # a GCS-compatible server (fake-gcs-server) at $STORAGE_EMULATOR_HOST
#
# Start the server first (README.md) and `trantor up`. The store's address and keys go into the
# deployment's envSecretRefName file in the Trantor home, so `trantor up` needs no restart.
# Needs curl 7.75 or later (its --aws-sigv4 signs the S3 requests).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/../iris/model/model.joblib"
trantor="${TRANTOR:-trantor}"
home="${TRANTOR_HOME:-$HOME/.trantor}"
bucket=models

usage() {
  echo "usage: $0 s3|gcs" >&2
  exit 2
}

# `secret NAME`: stdin becomes the env file the manifest's envSecretRefName NAME reads (namespace seldon).
secret() {
  mkdir -p "$home/secrets/seldon"
  (umask 077 && cat > "$home/secrets/seldon/$1.env")
  echo "wrote $home/secrets/seldon/$1.env"
}

# `check WHAT STATUS BODY OK...`: fails naming WHAT unless STATUS is one of OK.
check() {
  local what="$1" status="$2" body="$3"
  shift 3
  for ok in "$@"; do [[ "$status" == "$ok" ]] && return 0; done
  echo "error: $what: the server answered $status: $body" >&2
  exit 1
}

publish_s3() {
  local endpoint="${S3_ENDPOINT:-http://127.0.0.1:7070}"
  local key="${AWS_ACCESS_KEY_ID:-trantor}" secret_key="${AWS_SECRET_ACCESS_KEY:-trantor-secret}"
  [[ "$endpoint" == *://* ]] || endpoint="http://$endpoint"
  local sign=(--aws-sigv4 "aws:amz:${AWS_DEFAULT_REGION:-us-east-1}:s3" --user "$key:$secret_key" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
  local out status
  out="$(mktemp)"
  # 409 BucketAlreadyOwnedByYou: published before.
  status="$(curl -sS -o "$out" -w '%{http_code}' "${sign[@]}" -X PUT "$endpoint/$bucket")"
  check "creating the bucket $endpoint/$bucket" "$status" "$(cat "$out")" 200 409
  status="$(curl -sS -o "$out" -w '%{http_code}' "${sign[@]}" -T "$model" "$endpoint/$bucket/iris/model.joblib")"
  check "uploading $endpoint/$bucket/iris/model.joblib" "$status" "$(cat "$out")" 200
  rm -f "$out"
  echo "published s3://$bucket/iris/model.joblib at $endpoint"
  secret iris-s3 <<ENV
AWS_ACCESS_KEY_ID=$key
AWS_SECRET_ACCESS_KEY=$secret_key
S3_ENDPOINT=$endpoint
ENV
  "$trantor" apply -f "$here/iris-s3.yaml" --wait --timeout "${WAIT_TIMEOUT:-120s}"
}

publish_gcs() {
  local host="${STORAGE_EMULATOR_HOST:-127.0.0.1:4443}"
  local endpoint="$host"
  [[ "$endpoint" == *://* ]] || endpoint="http://$endpoint"
  endpoint="${endpoint%/}"
  local out status
  out="$(mktemp)"
  # 409: the bucket exists already.
  status="$(curl -sS -o "$out" -w '%{http_code}' -X POST -H 'content-type: application/json' -d "{\"name\":\"$bucket\"}" "$endpoint/storage/v1/b")"
  check "creating the bucket $bucket at $endpoint" "$status" "$(cat "$out")" 200 409
  status="$(curl -sS -o "$out" -w '%{http_code}' -X POST -H 'content-type: application/octet-stream' --data-binary "@$model" \
    "$endpoint/upload/storage/v1/b/$bucket/o?uploadType=media&name=iris%2Fmodel.joblib")"
  check "uploading gs://$bucket/iris/model.joblib to $endpoint" "$status" "$(cat "$out")" 200
  rm -f "$out"
  echo "published gs://$bucket/iris/model.joblib at $endpoint"
  secret iris-gcs <<ENV
STORAGE_EMULATOR_HOST=$host
ENV
  "$trantor" apply -f "$here/iris-gcs.yaml" --wait --timeout "${WAIT_TIMEOUT:-120s}"
}

case "${1:-}" in
  s3) publish_s3 ;;
  gcs) publish_gcs ;;
  *) usage ;;
esac
