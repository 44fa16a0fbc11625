#!/usr/bin/env bash
# A two-release demo of the gate: builds a tiny history in a temporary git repo
# (v1.0.0, then a change that escalates), and walks gate (fails) -> signed approve ->
# gate (passes). The approver's ed25519 key is a throwaway made with ssh-keygen; the
# release lists it in .scopegate/allowed_signers, so plain `gate` (any CI) can verify.
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
keys=$(mktemp -d)
trap 'rm -rf "$dir" "$keys"' EXIT
cd "$dir"
g() { git -c user.name=Demo -c user.email=demo@example.org -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
g init -q -b main
mkdir .scopegate
cp "$here/config.yaml" .scopegate/config.yaml
# Alice, the release manager, signs approvals with her own key (never committed); the
# release names her public key. Both files are owned by release managers (CODEOWNERS).
ssh-keygen -q -t ed25519 -N '' -C alice -f "$keys/alice"
echo "alice $(cut -d' ' -f1,2 "$keys/alice.pub")" > .scopegate/allowed_signers
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

say "scopegate approve --by alice --ticket SEC-142 --reason 'Dose corrections reviewed with pharmacy' --sign \$keys/alice"
sg approve --by alice --ticket SEC-142 --reason "Dose corrections reviewed with pharmacy" --sign "$keys/alice"
g add -A && g commit -qm "Approve 1.1.0 scope changes (SEC-142)"

say "scopegate gate"
set +e; sg gate; code=$?; set -e
echo "(exit $code)"
[ "$code" = 0 ] || { echo "demo: expected the gate to pass after approval" >&2; exit 1; }
