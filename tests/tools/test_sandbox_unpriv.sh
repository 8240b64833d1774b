#!/usr/bin/env bash
# tools: run_python's sandbox tests (test_sandbox) again as an unprivileged
# user, as on an HPC node: the strict sandbox maps the code's uid to the
# user's own, and the weak mode cannot drop to another uid (its known limits
# are printed, not failed). Needs root to switch users (setpriv); skips
# otherwise.
set -u
bin=${TKD_BUILD_DIR:-build}/bin/tools_test_sandbox
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || [ ! -x "$bin" ]; then
  echo "skipped: needs root, setpriv and $bin (run as a normal user, test_sandbox is this test)"
  exit 0
fi
uid=4242 # no process of this uid runs here
cd /tmp
setpriv --reuid=$uid --regid=$uid --clear-groups "$bin"
