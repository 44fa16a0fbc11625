#!/usr/bin/env bash
# Installs scopegate for the composite action: the pinned prebuilt binary for this
# runner (RUNNER_OS / RUNNER_ARCH, never github.action_ref), checksum-verified, or a
# build from source with cargo when no asset fits or `install: source` is asked for.
#
# Environment: RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH, GITHUB_ACTION_PATH (set
# by Actions); INPUT_INSTALL (auto|source). For tests: SCOPEGATE_RELEASE_FILE (another
# release.txt), SCOPEGATE_ASSET_DIR (take assets from this directory instead of
# downloading), SCOPEGATE_CARGO (the cargo to run).
set -euo pipefail

action_path=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
release_file=${SCOPEGATE_RELEASE_FILE:-$action_path/action/release.txt}
mode=${INPUT_INSTALL:-auto}
os=${RUNNER_OS:-unknown}
arch=${RUNNER_ARCH:-unknown}
root=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/scopegate
cargo=${SCOPEGATE_CARGO:-cargo}

case "$mode" in
  auto|source) ;;
  *) echo "::error title=scopegate::input install must be auto or source, not '$mode'" >&2; exit 2 ;;
esac

from_source() {
  echo "::notice title=scopegate::Building scopegate from source ($1)"
  "$cargo" install --locked --root "$root" --path "$action_path"
  echo "$root/bin" >> "$GITHUB_PATH"
}

asset=""
if [ "$mode" = auto ]; then
  asset=$(awk -v os="$os" -v arch="$arch" '$1 == os && $2 == arch { print; exit }' "$release_file")
fi
if [ -z "$asset" ]; then
  if [ "$mode" = source ]; then
    from_source "install: source"
  else
    from_source "no prebuilt binary for $os/$arch"
  fi
  exit 0
fi

read -r _ _ target url want <<<"$asset"
if [ -z "${want:-}" ] || [ "${#want}" -ne 64 ]; then
  echo "::error title=scopegate::$release_file: the line for $os/$arch has no SHA-256" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file="$work/$(basename "$url")"
if [ -n "${SCOPEGATE_ASSET_DIR:-}" ]; then
  cp "$SCOPEGATE_ASSET_DIR/$(basename "$url")" "$file"
else
  curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$file" "$url"
fi
if command -v sha256sum >/dev/null 2>&1; then
  got=$(sha256sum "$file" | cut -d' ' -f1)
else
  got=$(shasum -a 256 "$file" | cut -d' ' -f1)
fi
if [ "$got" != "$want" ]; then
  # Never fall back to an unverified binary, nor silently to a source build.
  echo "::error title=scopegate::checksum mismatch for $(basename "$url"): expected $want, got $got" >&2
  exit 1
fi
mkdir -p "$root/bin"
case "$file" in
  *.zip) unzip -q -o "$file" -d "$work/x" ;;
  *.tar.gz|*.tgz) mkdir -p "$work/x" && tar -xzf "$file" -C "$work/x" ;;
  *) echo "::error title=scopegate::unknown archive type: $file" >&2; exit 1 ;;
esac
bin=$(find "$work/x" -type f \( -name scopegate -o -name scopegate.exe \) | head -n 1)
if [ -z "$bin" ]; then
  echo "::error title=scopegate::no scopegate binary inside $(basename "$url")" >&2
  exit 1
fi
cp "$bin" "$root/bin/"
chmod +x "$root/bin/$(basename "$bin")"
echo "$root/bin" >> "$GITHUB_PATH"
echo "Installed scopegate for $target from $(basename "$url") (sha256 $got)"
