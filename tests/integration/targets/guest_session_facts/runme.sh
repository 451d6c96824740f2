#!/usr/bin/env bash
# guest_session_facts as a facts module of gather_facts (FACTS_MODULES), with
# its options from module_defaults.  The sample log comes from the
# guest_session_info target (needs/target/guest_session_info).
set -eux

log="$(cd ../guest_session_info/files && pwd)/sessions-selinux.log"

# only our facts module
ANSIBLE_FACTS_MODULES=virtaudit.auvirt.guest_session_facts \
    ansible-playbook -i "${INVENTORY_PATH}" gather_facts.yml -e "sample_log=${log}" -e expect_setup=false "$@"

# setup and our facts module together (what a fleet run would configure)
ANSIBLE_FACTS_MODULES=ansible.builtin.setup,virtaudit.auvirt.guest_session_facts \
    ansible-playbook -i "${INVENTORY_PATH}" gather_facts.yml -e "sample_log=${log}" -e expect_setup=true "$@"

# a host without an audit log: gathering must not fail (the README's setting)
ANSIBLE_FACTS_MODULES=ansible.builtin.setup,virtaudit.auvirt.guest_session_facts \
    ansible-playbook -i "${INVENTORY_PATH}" gather_facts_no_log.yml "$@"
