# tests/lib.sh - TAP helpers shared by the tests/t-*.sh scripts. Source it first:
#     . "$(dirname "$0")/lib.sh"
# ok STATUS DESC...       one TAP line: "ok N - DESC" if STATUS is 0, else "not ok N - DESC"
# skip REASON...          "ok N - # SKIP REASON" (a skip is reported, never silent; tests/run.sh
#                         counts it as passed)
# bad OPT CMD [ARGS...]   CMD ARGS must exit 2 with exactly one line on stderr, naming OPT
#                         (the rule for bad options and bad input, DESIGN.md)
# same FILE1 FILE2 DESC   the two files have the same bytes
# tap_done                print the plan "1..N", remove $T; exit status 1 if a check failed
# $T is a fresh scratch directory (under TMPDIR) for the script's files.
_tap_n=0
_tap_fails=0
T=$(mktemp -d "${TMPDIR:-/tmp}/smx-test.XXXXXX") || exit 1

ok() {
    _st=$1; shift
    _tap_n=$((_tap_n + 1))
    if [ "$_st" = 0 ]; then echo "ok $_tap_n - $*"; else echo "not ok $_tap_n - $*"; _tap_fails=$((_tap_fails + 1)); fi
}

skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - # SKIP $*"; }

bad() {
    _opt=$1; _cmd=$2; shift 2
    "$_cmd" "$@" >/dev/null 2>"$T/.bad.err"; _rc=$?
    _lines=$(wc -l <"$T/.bad.err")
    grep -q -- "$_opt" "$T/.bad.err"; _named=$?
    [ $_rc = 2 ] && [ $_named = 0 ] && [ "$_lines" -eq 1 ]
    ok $? "${_cmd##*/} $* rejected (exit $_rc, $_lines line(s) on stderr, names $_opt)"
}

same() { cmp -s "$1" "$2"; _st=$?; shift 2; ok $_st "$*"; }

tap_done() {
    rm -rf "$T"
    echo "1..$_tap_n"
    [ $_tap_fails = 0 ]
}
