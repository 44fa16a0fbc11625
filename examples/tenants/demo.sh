#!/usr/bin/env bash
# The tenant matrix on three example apps and three example tenants: a strict community
# clinic, an academic medical center with sensitive medication data, and a regional
# hospital whose EHR speaks only SMART v1. Builds a temporary repo (release v1.0.0, then
# a change that lets med-rec update home medications), and walks
# gate -> approve -> approve --tenant -> gate.
# Usage: examples/tenants/demo.sh [--json FILE]   (SCOPEGATE=path/to/scopegate to use a built binary)
# With --json, the last gate's JSON report is written to FILE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
examples=$(cd "$here/.." && pwd)
json_out=
if [ "${1:-}" = "--json" ]; then json_out=$(realpath -m "$2"); fi
if [ -n "${SCOPEGATE:-}" ]; then
  SCOPEGATE=$(cd "$(dirname "$SCOPEGATE")" && pwd)/$(basename "$SCOPEGATE")
  sg() { "$SCOPEGATE" "$@"; }
else
  sg() { cargo run --release --quiet --manifest-path "$examples/../Cargo.toml" -- "$@"; }
fi
dir=$(mktemp -d)
keys=$(mktemp -d)
trap 'rm -rf "$dir" "$keys"' EXIT
cd "$dir"
g() { git -c user.name=Demo -c user.email=demo@example.org -c commit.gpgsign=false -c tag.gpgsign=false "$@"; }
g init -q -b main
mkdir -p apps .scopegate/tenants/ehr
for app in med-rec patient-summary population-health; do cp "$examples/$app.yaml" "apps/$app.yaml"; done
cp "$here"/*.yaml .scopegate/tenants/
cp "$here"/ehr/*.json .scopegate/tenants/ehr/
cat > .scopegate/config.yaml <<'YAML'
approvers: [alice]
manifests: ['apps/*.yaml']
tenants: enforce
YAML
# Alice signs her approvals; the release lists her key (see examples/demo/demo.sh).
ssh-keygen -q -t ed25519 -N '' -C alice -f "$keys/alice"
echo "alice $(cut -d' ' -f1,2 "$keys/alice.pub")" > .scopegate/allowed_signers
g add -A && g commit -qm "Release 1.0.0" && g tag v1.0.0
sed -i 's#patient/MedicationStatement.crs#patient/MedicationStatement.crus#; s#      - patient/MedicationStatement.c$#      - patient/MedicationStatement.cu#' apps/med-rec.yaml
g commit -qam "med-rec: update reconciled home medications"

say() { printf '\n$ %s\n' "$*"; }
export NO_COLOR=1
matrix() { sed -n '/^Tenants (/,/^$/p'; }
say "scopegate gate   # (tenant matrix only)"
set +e; sg gate | matrix; set -e

say "scopegate approve --by alice --ticket SEC-7 --sign \$keys/alice"
sg approve --by alice --ticket SEC-7 --sign "$keys/alice"
g add -A && g commit -qm "Approve (SEC-7)"
say "scopegate gate   # (tenant matrix only)"
set +e; sg gate | matrix; set -e

say "scopegate approve --by alice --ticket AMC-31 --tenant academic-medical-center --sign \$keys/alice"
sg approve --by alice --ticket AMC-31 --tenant academic-medical-center --sign "$keys/alice"
g add -A && g commit -qm "Approve for the academic medical center (AMC-31)"
say "scopegate gate   # (tenant matrix only)"
set +e; sg gate | matrix; code=${PIPESTATUS[0]}; set -e
echo "(exit $code: blocked tenants fail the gate under \`tenants: enforce\`)"
[ "$code" = 1 ] || { echo "demo: expected the gate to fail while tenants are blocked" >&2; exit 1; }
if [ -n "$json_out" ]; then
  set +e; sg gate --format json > "$json_out"; set -e
fi
