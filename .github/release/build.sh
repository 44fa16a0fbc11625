#!/usr/bin/env bash
# Builds one release asset and the action/release.txt line that pins it.
# Env: TARGET (rust target), RUNNER_LABEL ("OS ARCH" as the runner reports them), TAG.
set -euo pipefail
: "${TARGET:?}" "${RUNNER_LABEL:?}" "${TAG:?}"
rustup target add "$TARGET"
case "$TARGET" in
  *-linux-musl) sudo apt-get update -q && sudo apt-get install -y -q musl-tools ;;
esac
cargo build --release --locked --target "$TARGET"
mkdir -p dist stage
name="scopegate-${TAG#v}-$TARGET"
case "$TARGET" in
  *windows*)
    cp "target/$TARGET/release/scopegate.exe" stage/
    (cd stage && 7z a -tzip "../dist/$name.zip" scopegate.exe >/dev/null)
    asset="$name.zip"
    ;;
  *)
    cp "target/$TARGET/release/scopegate" stage/
    tar -czf "dist/$name.tar.gz" -C stage scopegate
    asset="$name.tar.gz"
    ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  sum=$(sha256sum "dist/$asset" | cut -d' ' -f1)
else
  sum=$(shasum -a 256 "dist/$asset" | cut -d' ' -f1)
fi
url="https://github.com/${GITHUB_REPOSITORY}/releases/download/$TAG/$asset"
echo "$RUNNER_LABEL $TARGET $url $sum" > "dist/$TARGET.line"
