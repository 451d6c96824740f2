#!/usr/bin/env bash
# Print one line per suite of `make test` from the logs in LOGDIR:
# status, time and the suite's own result line (pytest's "N passed" line,
# the number of sanity tests, the integration play recap, ...).
#
# A suite whose make target succeeded is "ok" only when it really ran:
#   SKIPPED (reason)         the log has a banner "*** SKIPPED SUITE: reason ***",
#                            or pytest skipped everything it collected;
#   PARTLY SKIPPED (reason)  the log has "*** PARTLY SKIPPED SUITE: reason ***"
#                            (some of it ran and passed, some could not run here).
set -uo pipefail
logs="${1:?usage: summary.sh LOGDIR SUITE...}"
shift

# pytest's closing line(s), e.g. "===== 12 passed, 1 skipped in 0.50s ====="
# (ansible-test units runs pytest once per context: every line, joined)
pytest_line() {
    grep -E "^=+ .*(passed|failed|error|errors|skipped|no tests ran).* in [0-9.]+s.* =+$" "$1" \
        | paste -sd '|' - | sed 's/|/ | /g'
}

# the reason inside a banner "*** KIND SUITE: reason ***" (first one), else nothing
banner_reason() {
    local kind="$1" log="$2"
    grep -m1 -E "^\*\*\* $kind [^ :]+: " "$log" | sed -E "s/^\*\*\* $kind [^ :]+: //; s/ *\*\*\*$//"
}

# why a suite whose target succeeded did not run at all; empty when it ran
skip_reason() {
    local log="$1" line reason
    reason=$(banner_reason SKIPPED "$log")
    if [ -n "$reason" ]; then echo "$reason"; return; fi
    line=$(pytest_line "$log")
    if [[ "$line" == *skipped* ]] && ! [[ "$line" =~ [0-9]+\ (passed|failed|error|errors|xfailed|xpassed) ]]; then
        # pytest -ra: "SKIPPED [2] tests/x/test_y.py:12: reason"
        reason=$(grep -m1 -E '^SKIPPED \[[0-9]+\] ' "$log" | sed -E 's/^SKIPPED \[[0-9]+\] [^:]+:[0-9]+: //')
        echo "${reason:-pytest skipped every test: ${line//=/}}"
    fi
}

result_line() {
    local suite="$1" log="$logs/$1.log"
    [ -f "$log" ] || { echo "(no log)"; return; }
    case "$suite" in
        sanity)
            local n py fail
            n=$(grep -c "^Running sanity test " "$log")
            fail=$(grep -c "^ERROR: " "$log")
            py=$(grep -oE '^Running sanity test "[a-z-]+" on Python [0-9.]+' "$log" | awk '{print $NF}' | sort -uV | tr '\n' ' ')
            echo "$n sanity test runs (pythons: ${py% }), $fail error line(s)"
            ;;
        integration)
            local targets recap
            targets=$(grep -oE "^Running [a-z_0-9]+ integration test (role|script)" "$log" | awk '{print $2}' | tr '\n' ' ')
            recap=$(grep -E "^[a-zA-Z0-9_.-]+ +: ok=" "$log" | awk '{ok+=substr($3,4); f+=substr($6,8)} END {printf "tasks ok=%d failed=%d", ok, f}')
            echo "targets: ${targets% }; $recap"
            ;;
        lint)
            grep -E "^lint: |Passed:|Failed:|^ERROR" "$log" | tail -2 | tr '\n' ' '; echo
            ;;
        *)
            local line
            line=$(pytest_line "$log")
            if [ -n "$line" ]; then echo "$line"; else tail -1 "$log"; fi
            ;;
    esac
}

echo
echo "============================== make test summary =============================="
for suite in "$@"; do
    status="not run"
    [ -f "$logs/$suite.status" ] && status="$(cat "$logs/$suite.status")"
    log="$logs/$suite.log"
    if [[ "$status" == ok* ]] && [ -f "$log" ]; then
        seconds="${status#ok }"
        reason=$(skip_reason "$log")
        if [ -n "$reason" ]; then
            printf '%-20s %s\n' "$suite" "SKIPPED ($reason) $seconds"
            continue
        fi
        reason=$(banner_reason "PARTLY SKIPPED" "$log")
        if [ -n "$reason" ]; then
            printf '%-20s %s | %s\n' "$suite" "PARTLY SKIPPED ($reason) $seconds" "$(result_line "$suite")"
            continue
        fi
    fi
    printf '%-20s %-12s %s\n' "$suite" "$status" "$(result_line "$suite")"
done
