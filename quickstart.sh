#!/usr/bin/env bash
# Sets Trantor up on this machine and serves the iris example (journey J1):
# installs the npm packages, builds, makes sure a Python with scikit-learn is there,
# starts `trantor up` in the background and applies examples/iris/iris.yaml.
set -euo pipefail
cd "$(dirname "$0")"

PORT="${TRANTOR_PORT:-8000}"
export TRANTOR_HOME="${TRANTOR_HOME:-$HOME/.trantor}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund >&2
fi
say "building"
npm run --silent build >&2

# A Python that can import numpy, scikit-learn and joblib (TRANTOR_PYTHON, python3, /usr/bin/python3).
has_sklearn() {
  for py in "${TRANTOR_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] && "$py" -c 'import numpy, sklearn, joblib' 2>/dev/null && return 0
  done
  return 1
}
if ! has_sklearn; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Python's scikit-learn from Debian (python3-sklearn)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-numpy python3-joblib >&2
  fi
  has_sklearn || die "no Python 3 with numpy, scikit-learn and joblib was found. Install them with:
    sudo apt-get install -y python3-sklearn python3-numpy python3-joblib
  or: python3 -m pip install numpy scikit-learn joblib
  (or set TRANTOR_PYTHON to a Python that has them), then run ./quickstart.sh again."
fi

trantor() { node bin/trantor.js "$@"; }

if trantor get >/dev/null 2>&1; then
  say "a control plane is already running for $TRANTOR_HOME"
else
  mkdir -p "$TRANTOR_HOME"
  say "starting the control plane (trantor up --port $PORT); its log: $TRANTOR_HOME/up.log"
  nohup node bin/trantor.js up --port "$PORT" >"$TRANTOR_HOME/up.log" 2>&1 &
  for _ in $(seq 1 100); do
    grep -q '^gateway: ' "$TRANTOR_HOME/up.log" 2>/dev/null && break
    kill -0 $! 2>/dev/null || die "trantor up stopped: $(tail -5 "$TRANTOR_HOME/up.log")"
    sleep 0.1
  done
fi
gateway=$(node -p "require('$TRANTOR_HOME/control-plane.json').gatewayUrl")

say "applying examples/iris/iris.yaml"
trantor apply -f examples/iris/iris.yaml --wait

url="$gateway/seldon/seldon/iris-model/api/v1.0/predictions"
cat <<DONE

The iris model is served at:
  $url

Try it:
  curl -X POST $url -H 'Content-Type: application/json' -d '{"data":{"ndarray":[[1,2,3,4]]}}'
API docs: $gateway/seldon/seldon/iris-model/api/v1.0/doc/
The dashboard, at $gateway/: node bin/trantor.js dashboard   (opens it logged in; --no-open prints the link)
Stop the control plane with: kill \$(node -p "require('$TRANTOR_HOME/control-plane.json').pid")
DONE
echo "$url"
