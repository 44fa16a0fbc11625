#!/usr/bin/env bash
# The README's Quickstart, steps 2 to 8, on a fresh temporary repository. Step 1 is the
# install (CI builds the binary; SCOPEGATE=path/to/scopegate uses it). Step 8's GitHub
# path (an Approve review re-runs the check) needs GitHub; here the release manager signs
# her approval, which any CI verifies, and tests/adoption.rs covers the review path
# against a fake GitHub. Every step checks its exit code and the text the README promises.
# Usage: examples/quickstart/quickstart.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -n "${SCOPEGATE:-}" ]; then
  SCOPEGATE=$(cd "$(dirname "$SCOPEGATE")" && pwd)/$(basename "$SCOPEGATE")
  sg() { "$SCOPEGATE" "$@"; }
else
  sg() { cargo run --release --quiet --manifest-path "$root/Cargo.toml" -- "$@"; }
fi
dir=$(mktemp -d)
keys=$(mktemp -d)
trap 'rm -rf "$dir" "$keys"' EXIT
cd "$dir"
export NO_COLOR=1
g() { git -c user.name=Dev -c user.email=dev@example.org -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
fail() { echo "quickstart: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
expect() { # expect CODE CMD...: runs CMD, output to $out, checks the exit code
  local want=$1; shift
  set +e; out=$("$@" 2>&1); code=$?; set -e
  printf '%s\n(exit %s)\n' "$out" "$code"
  [ "$code" = "$want" ] || fail "expected exit $want from: $*"
}
g init -q -b main
echo "# med-rec" > README.md
g add -A && g commit -qm "The app, before scopegate"

step "2. scopegate init"
sg init --id med-rec --scopes "launch openid fhirUser patient/MedicationStatement.rs patient/AllergyIntolerance.rs" > smart-app.yaml
grep -q 'id: "med-rec"' smart-app.yaml || fail "init did not name the app"

step "3. scopegate check (the TODOs are warnings), then with the TODOs replaced"
expect 1 sg check
grep -q 'has a TODO description' <<<"$out" || fail "check should say the skeleton has TODOs"
sed -i -e 's/"TODO: why the app needs \([^"]*\)"/"The reconciliation view needs \1."/' \
       -e 's/"TODO: what the app does with \([^"]*\)"/"Reconciles home medications using \1."/' smart-app.yaml
expect 0 sg check

step "4. the judges: config with approvers, CODEOWNERS, the workflow (a pull request of its own)"
mkdir -p .scopegate .github/workflows
printf 'approvers: [rm-jane, acme/release-managers]\n' > .scopegate/config.yaml
printf '/.scopegate/ @acme/release-managers\n/.github/workflows/ @acme/release-managers\n' >> .github/CODEOWNERS
cp "$root/examples/workflows/pr-gate.yml" .github/workflows/scopegate.yml
# For step 8's any-CI path: rm-jane's public key, merged with the config.
ssh-keygen -q -t ed25519 -N '' -C rm-jane -f "$keys/rm-jane"
echo "rm-jane $(cut -d' ' -f1,2 "$keys/rm-jane.pub")" > .scopegate/allowed_signers
g add -A && g commit -qm "Adopt scopegate"

step "5. the ruleset that makes the check required"
python3 - "$root/examples/quickstart/ruleset.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
checks = [c for rule in r["rules"] if rule["type"] == "required_status_checks"
          for c in rule["parameters"]["required_status_checks"]]
assert {"context": "scopegate"} in checks, checks
assert any(rule["type"] == "pull_request" and rule["parameters"]["require_code_owner_review"]
           for rule in r["rules"]), "code-owner review"
assert r["conditions"]["ref_name"]["include"] == ["~DEFAULT_BRANCH"]
print("ruleset: requires the scopegate check and code-owner review on the default branch")
PY
grep -q '^  scopegate:' .github/workflows/scopegate.yml || fail "the required check is the job named scopegate"

step "6. the first release"
g tag v1.0.0

step "7. the first gated change fails, naming the unapproved access"
g checkout -q -b widen
sed -i 's#patient/MedicationStatement.rs#patient/MedicationStatement.crus#g' smart-app.yaml
g commit -qam "Write reconciled medications back"
expect 1 sg gate --trusted main
grep -q 'med-rec:patient/MedicationStatement.cu' <<<"$out" || fail "the unapproved key"
grep -q 'baseline previous release (v\*) from main: v1.0.0' <<<"$out" || fail "the baseline"

step "8. a release manager approves; the gate passes"
sg approve --by rm-jane --ticket SEC-142 --reason "Reconciled doses are written back" --sign "$keys/rm-jane" --trusted main
g add -A && g commit -qm "Approve SEC-142"
expect 0 sg gate --trusted main
grep -q 'approved by rm-jane' <<<"$out" || fail "the approval is shown"
echo
echo "quickstart: ok"
