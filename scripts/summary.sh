#!/usr/bin/env bash
# Print one line per suite of `make test` from the logs in LOGDIR:
# status, time and the suite's own result line (pytest's "N passed" line,
# the number of sanity tests, the integration play recap, ...).
set -uo pipefail
logs="${1:?usage: summary.sh LOGDIR SUITE...}"
shift

result_line() {
    local suite="$1" log="$logs/$1.log"
    [ -f "$log" ] || { echo "(no log)"; return; }
    if grep -q '^\*\*\* SKIPPED' "$log"; then
        grep -m1 '^\*\*\* SKIPPED' "$log"; return
    fi
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
            # pytest's closing line, e.g. "===== 12 passed, 1 skipped in 0.50s ====="
            # (ansible-test units runs pytest once per context: every line, joined)
            local line
            line=$(grep -E "^=+ .*(passed|failed|error|errors|skipped|no tests ran).* in [0-9.]+s.* =+$" "$log" \
                   | paste -sd '|' - | sed 's/|/ | /g')
            if [ -n "$line" ]; then echo "$line"; else tail -1 "$log"; fi
            ;;
    esac
}

echo
echo "============================== make test summary =============================="
for suite in "$@"; do
    status="not run"
    [ -f "$logs/$suite.status" ] && status="$(cat "$logs/$suite.status")"
    printf '%-20s %-12s %s\n' "$suite" "$status" "$(result_line "$suite")"
done
