#!/usr/bin/env bash
# expr: the `tkd expr` command line: outputs, exit codes (0 ok, 1 math or
# limit error, 2 usage or bad input), and error messages on stderr.
set -u
T=${TKD:?TKD must name the tkd binary}
fails=0 passes=0
expect() { # expect WANT_RC WANT_OUT_SUBSTRING ARGS...
    local rc_want=$1 want=$2; shift 2
    local out rc
    out=$("$T" expr "$@" 2>&1); rc=$?
    if [ "$rc" -eq "$rc_want" ] && [[ "$out" == *"$want"* ]]; then
        passes=$((passes + 1))
    else
        fails=$((fails + 1)); echo "FAIL: tkd expr $* -> rc=$rc out=$out (want rc=$rc_want, '$want')"
    fi
}
expect 0 "x**2 + 2*x + 1" expand "(x+1)**2"
expect 0 "\\frac{1}{3}" latex "1/3"
expect 0 "(1 + sqrt(5))/4" eval "cos(pi/5)"
expect 0 "3.14159265358979" n "pi" 15
expect 0 "(x + 1)*(x - 1)" factor "x**2 - 1"
expect 0 "3*x**2" diff "x**3" x
expect 0 "[1, 2, 1]" coeffs "(x+1)**2" x
expect 0 "[-sqrt(2), sqrt(2)]" roots "x**2 - 2" x
expect 0 "y**2 + 2*y + 1" expand "$("$T" expr subs "x**2" x "y+1")"
expect 0 "1" simplify "sin(x)**2 + cos(x)**2"
expect 1 "TKD_EXPR_MAX_INT_BITS" eval "2**(10**10)"
expect 1 "TKD_EXPR_MAX_DEGREE" expand "(x+1)**100000"
expect 2 "did you mean 2*x" print "2x"
expect 1 "division by zero" simplify "1/0"
expect 2 "usage" frobnicate "x"
expect 2 "usage" print
# from-latex: the grader's LaTeX reader in batch, one line in, one line out
out=$(printf '%s\n' '\sqrt{x+3}=x-3' '|2x-1|<5' '\frac{' '\begin{pmatrix}1&2\\3&4\end{pmatrix}' | "$T" expr from-latex -)
want=$(printf '%s\n' 'Eq(sqrt(x + 3), x - 3)' 'Abs(2*x - 1) < 5' 'error:' 'Matrix([[1, 2], [3, 4]])')
if [ "$(printf '%s\n' "$out" | cut -c1-6 | sed -n 3p)" = "error:" ] &&
   [ "$(printf '%s\n' "$out" | sed 3d)" = "$(printf '%s\n' "$want" | sed 3d)" ]; then
    passes=$((passes + 1))
else
    fails=$((fails + 1)); echo "FAIL: tkd expr from-latex -> $out"
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
