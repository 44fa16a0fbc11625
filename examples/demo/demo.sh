#!/usr/bin/env bash
# A two-release demo of the gate: builds a tiny history in a temporary git repo
# (v1.0.0, then a change that escalates), and walks gate (fails) -> approve -> gate (passes).
# Usage: examples/demo/demo.sh   (SCOPEGATE=path/to/scopegate to use a built binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${SCOPEGATE:-}" ]; then
  SCOPEGATE=$(cd "$(dirname "$SCOPEGATE")" && pwd)/$(basename "$SCOPEGATE")
  sg() { "$SCOPEGATE" "$@"; }
else
  sg() { cargo run --release --quiet --manifest-path "$here/../../Cargo.toml" -- "$@"; }
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
g() { git -c user.name=Demo -c user.email=demo@example.org -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
g init -q -b main
mkdir .scopegate
cp "$here/config.yaml" .scopegate/config.yaml
cp "$here/v1.0.0.yaml" smart-app.yaml
g add -A && g commit -qm "Release 1.0.0" && g tag v1.0.0
cp "$here/v1.1.0.yaml" smart-app.yaml
g commit -qam "Correct home medication doses; show indications"

say() { printf '\n$ %s\n' "$*"; }
export NO_COLOR=1
say "scopegate gate"
set +e; sg gate; code=$?; set -e
echo "(exit $code)"
[ "$code" = 1 ] || { echo "demo: expected the gate to fail first" >&2; exit 1; }

say "scopegate approve --by alice --ticket SEC-142 --reason 'Dose corrections reviewed with pharmacy'"
sg approve --by alice --ticket SEC-142 --reason "Dose corrections reviewed with pharmacy"
g add -A && g commit -qm "Approve 1.1.0 scope changes (SEC-142)"

say "scopegate gate"
set +e; sg gate; code=$?; set -e
echo "(exit $code)"
[ "$code" = 0 ] || { echo "demo: expected the gate to pass after approval" >&2; exit 1; }
