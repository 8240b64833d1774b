# Shared by the dist shell tests: tools, a scratch folder, helpers.
set -euo pipefail
: "${TKD:?TKD (the tkd CLI) must be set; run through ctest}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d "${TMPDIR:-/tmp}/tkd-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
check() { /usr/bin/python3 "$here/check_store.py" "$@"; }
job() { # job FILE N [extra JSON members of testwork]
  cat >"$1" <<JSON
{"output_dir": "$work/out", "log_level": "info",
 "dist": {"lease_max": 16, "progress_every_s": 1, "grace_s": ${GRACE:-3}},
 "testwork": {"items": $2, "text_bytes": 100 ${3:+, $3}}}
JSON
}
