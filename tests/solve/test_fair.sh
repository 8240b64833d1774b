#!/usr/bin/env bash
# Fair leases (issue 14.2): with default settings, `tkd solve` on 300, 700 and
# 3,000 problems over 2 and 4 ranks gives every rank 0.5..1.5x its equal
# share of the problems (before, rank 0 took every problem of jobs under
# ~2,000: its own requests filled solve.max_in_flight before the others asked).
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/fair_split.sh"
echo "ok   every rank did 0.5..1.5x its equal share"
