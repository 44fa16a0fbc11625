#!/usr/bin/env bash
# The action's run step: turns the inputs (passed through env, never ${{ }} in a
# script) into `scopegate ci` arguments. The exit code is scopegate's own.
set -euo pipefail
args=(ci --baseline "${INPUT_BASELINE:-auto}" --comment "${INPUT_COMMENT:-auto}" --fail-on "${INPUT_FAIL_ON:-unapproved}")
if [ "${INPUT_SUMMARY:-true}" != true ]; then args+=(--no-summary); fi
if [ "${INPUT_ANNOTATIONS:-true}" != true ]; then args+=(--no-annotations); fi
if [ -n "${INPUT_COMMENT_AUTHOR:-}" ]; then args+=(--comment-author "$INPUT_COMMENT_AUTHOR"); fi
# The API's caps and deadlines: each input, when set, becomes its flag (scopegate
# refuses a value that is not a number, exit 2).
for cap in api-timeout api-max-wait api-call-timeout api-run-timeout \
  api-max-response-bytes api-max-pages api-max-items api-max-listing-bytes; do
  var="INPUT_$(printf '%s' "$cap" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!var:-}" ]; then args+=("--$cap" "${!var}"); fi
done
# Manifests: whitespace- or newline-separated paths.
read -r -d '' -a manifests <<<"${INPUT_MANIFEST:-}" || true
exec "${SCOPEGATE_BIN:-scopegate}" "${args[@]}" ${manifests[@]+"${manifests[@]}"}
