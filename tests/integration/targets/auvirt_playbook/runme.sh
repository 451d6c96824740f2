#!/usr/bin/env bash
# The collection playbook virtaudit.auvirt.auvirt, run from the shell the way
# auvirt was, with auvirt's options as extra variables.
set -eux

log="$(pwd)/files/migration-two-nodes.log"
out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT

# the default report of a file, written to dest: one line per session, with a
# host column because the log holds two nodes (the same guest on hv1 and hv2)
ansible-playbook -i "${INVENTORY_PATH}" -e target=all virtaudit.auvirt.auvirt \
    -e "file=${log}" -e "dest=${out}/default.txt" "$@" | tee "${out}/stdout.txt"
test "$(wc -l < "${out}/default.txt")" -eq 2
test "$(cut -f1,2 "${out}/default.txt" | tr -s ' ' | sort)" = "$(printf 'app01 \thv1 \napp01 \thv2 ')"
# the printed text has the TABs expanded, as a terminal shows auvirt's output
grep -q 'app01  *hv1  *root  *Mon Mar 11 08:00 - 09:00' "${out}/stdout.txt"
if grep -q '\\t' "${out}/stdout.txt"; then echo "TABs printed as \\t" >&2; exit 1; fi

# auvirt's layout without the host column; --all-events, --show-uuid, --proof
ansible-playbook -i "${INVENTORY_PATH}" -e target=all virtaudit.auvirt.auvirt -e "file=${log}" \
    -e show_host=never -e all_events=true -e show_uuid=true -e proof=true -e "dest=${out}/all.txt" "$@"
grep -q $'^start  app01 *\t44444444-5555-4666-8777-888888888888\troot' "${out}/all.txt"
grep -q "^    Proof:1710144000" "${out}/all.txt"

# --summary, --start/--end, --vm with a list and --uuid (upper case is accepted)
ansible-playbook -i "${INVENTORY_PATH}" -e target=all virtaudit.auvirt.auvirt -e "file=${log}" \
    -e summary=true -e start=2024-03-11T09:30Z -e end=2024-03-11T12:00Z -e "vm=nothing,app01" \
    -e uuid=44444444-5555-4666-8777-888888888888 -e "dest=${out}/summary.txt" "$@"
grep -q "Number of guest starts" "${out}/summary.txt"

# a bad option fails the play with auvirt-like clarity
if ansible-playbook -i "${INVENTORY_PATH}" -e target=all virtaudit.auvirt.auvirt -e "file=${log}" \
    -e uuid=not-a-uuid "$@" > "${out}/bad.txt" 2>&1; then
    echo "an invalid uuid did not fail" >&2; exit 1
fi
grep -q "invalid uuid 'not-a-uuid'" "${out}/bad.txt"
