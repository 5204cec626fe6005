#!/usr/bin/env bash
# Time `make install` in a fresh clone of this checkout and report the size of its .venv/.
# Run: bash bench/fresh_install.sh
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
git clone -q "$src" "$dir/practicum"
cd "$dir/practicum"
start=$(date +%s)
make install >install.log 2>&1 || { tail -20 install.log; exit 1; }
end=$(date +%s)
echo "fresh-clone install: $((end - start)) s"
echo ".venv size: $(du -sm .venv | cut -f1) MB; node_modules: $(du -sm node_modules | cut -f1) MB"
