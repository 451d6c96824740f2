# virtaudit.auvirt - set-up, tests and demo.  `make help` lists the targets,
# docs/testing.md explains each of them.
#
#   make demo   run the collection on the bundled sample logs
#   make test   set everything up and run every test suite

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
VPY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
CACHE := $(ROOT)/.cache
LOGS := $(CACHE)/logs
# ansible-test needs the collection at .../ansible_collections/<ns>/<name>;
# CACHE is also the ANSIBLE_COLLECTIONS_PATH of the demo and the playbooks.
STAGE := $(CACHE)/ansible_collections/virtaudit/auvirt
PYBIN := $(CACHE)/pybin
PY36_VENV := $(CACHE)/venv-py36
OUTPUT := $(ROOT)/output

# Python used to create the venv (ansible-core 2.19: controller 3.11-3.13)
BOOTSTRAP_PYTHON ?= $(shell command -v python3.11 || command -v python3)

# commands run "inside" the venv (ansible-test and ansible-lint call the
# other venv tools through PATH)
IN_VENV := env PATH="$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(VENV)"
PYVER = $(shell $(VPY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# every suite of `make test`, in the order they run
SUITES := units lint sanity units-ansible-test py36 integration differential

# Further suites and targets live in mk/*.mk (one file per area, e.g. mk/e2e.mk);
# each appends its suite names to SUITES and documents its targets with `## `.
-include $(sort $(wildcard mk/*.mk))

.PHONY: help venv stage pip-shim shellcheck pybin units sanity units-ansible-test py36 \
	integration lint differential demo test summary clean distclean

help: ## list the targets
	@echo "virtaudit.auvirt - make targets (details: docs/testing.md)"
	@grep -hE '^[a-z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-20s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- set-up --

venv: $(VENV_STAMP) ## create .venv and install tests/requirements.txt (once)

$(VENV_STAMP): tests/requirements.txt scripts/make_venv.sh
	scripts/make_venv.sh "$(VENV)" "$(BOOTSTRAP_PYTHON)" tests/requirements.txt
	touch $@

stage: ## copy the checkout to .cache/ansible_collections/virtaudit/auvirt (for ansible-test / ansible-playbook)
	@python3 scripts/stage_collection.py "$(CACHE)"

pip-shim: $(VENV_STAMP) ## offline pip bootstrap for ansible-test in ~/.ansible/test/cache
	@$(VPY) scripts/ansible_test_pip_shim.py

shellcheck: ## make sure shellcheck exists for the shellcheck sanity test (apt-get as root)
	@command -v shellcheck >/dev/null 2>&1 || scripts/apt_install.sh shellcheck \
		|| echo "*** WARNING: shellcheck not installed: the shellcheck sanity test will be skipped ***"

pybin: ## .cache/pybin: python3.X symlinks to every target Python found (pyenv)
	@scripts/pybin.sh "$(PYBIN)" "$(PYVER)"

# ----------------------------------------------------------------- tests --

units: $(VENV_STAMP) ## pytest tests/unit with the venv's Python
	@mkdir -p $(LOGS)
	$(VPY) -m pytest -ra tests/unit 2>&1 | tee $(LOGS)/units.log

sanity: $(VENV_STAMP) stage pip-shim pybin shellcheck ## ansible-test sanity --local, no ignore files, on every target Python found
	@mkdir -p $(LOGS)
	@if ls tests/sanity/ignore-*.txt >/dev/null 2>&1; then \
		echo "ERROR: tests/sanity/ignore-*.txt exist; this collection must pass sanity without ignores"; exit 1; fi
	cd $(STAGE) && $(IN_VENV) PATH="$(PYBIN):$(VENV)/bin:$$PATH" \
		ansible-test sanity --local --color no 2>&1 | tee $(LOGS)/sanity.log

units-ansible-test: $(VENV_STAMP) stage pip-shim ## ansible-test units --local on the controller Python
	@mkdir -p $(LOGS)
	cd $(STAGE) && $(IN_VENV) ansible-test units --local --color no --python $(PYVER) 2>&1 \
		| tee $(LOGS)/units-ansible-test.log

py36: ## module_utils + module unit tests on Python 3.6 (SKIPPED loudly without one)
	@mkdir -p $(LOGS)
	@scripts/py36.sh "$(PY36_VENV)" $(LOGS)/py36.log

integration: $(VENV_STAMP) stage pip-shim ## ansible-test integration --local: the modules through ansible-playbook on localhost
	@mkdir -p $(LOGS)
	cd $(STAGE) && $(IN_VENV) ansible-test integration --local --color no --python $(PYVER) 2>&1 \
		| tee $(LOGS)/integration.log

lint: $(VENV_STAMP) stage ## ansible-lint --offline (profile production) + antsibull-changelog lint
	@mkdir -p $(LOGS)
	{ $(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(CACHE)" ansible-lint --offline --nocolor && $(IN_VENV) antsibull-changelog lint && echo "lint: ansible-lint and antsibull-changelog lint passed"; } 2>&1 \
		| tee $(LOGS)/lint.log

differential: $(VENV_STAMP) ## pytest tests/differential: compare with the real auvirt (installs Debian's auditd)
	@mkdir -p $(LOGS)
	@if [ ! -d tests/differential ]; then \
		echo "*** SKIPPED differential: tests/differential does not exist ***" | tee $(LOGS)/differential.log; \
	else \
		$(VPY) -m pytest -ra tests/differential 2>&1 | tee $(LOGS)/differential.log; \
	fi

test: ## everything: set-up, then every suite (keeps going after a failure), then a summary
	@rm -rf $(LOGS); mkdir -p $(LOGS)
	@$(MAKE) venv
	@rc=0; for suite in $(SUITES); do \
		echo; echo "======================== make $$suite ========================"; \
		start=$$(date +%s); \
		if $(MAKE) $$suite; then echo "ok $$(( $$(date +%s) - start ))s" > $(LOGS)/$$suite.status; \
		else rc=1; echo "FAILED $$(( $$(date +%s) - start ))s" > $(LOGS)/$$suite.status; fi; \
	done; \
	scripts/summary.sh $(LOGS) $(SUITES); exit $$rc

summary: ## print the summary of the last `make test`
	@scripts/summary.sh $(LOGS) $(SUITES)

# ------------------------------------------------------------------ demo --

demo: $(VENV_STAMP) stage ## guest_session_info on the sample logs (./output/), then the fleet report of the demo fleet (./output/fleet-report/)
	@mkdir -p $(OUTPUT)
	$(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(CACHE)" ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
		ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
		ansible-playbook -i playbooks/inventory.ini playbooks/demo.yml \
		-e demo_output_dir="$(OUTPUT)" -e demo_samples_dir="$(ROOT)/tests/fixtures/samples"
	$(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(CACHE)" ANSIBLE_LOCALHOST_WARNING=false \
		ansible-playbook virtaudit.auvirt.fleet_report -i demo/inventory.yml \
		-e fleet_report_dest="$(OUTPUT)/fleet-report" -e fleet_report_results_dir="$(OUTPUT)/fleet-results"
	@echo "results written to $(OUTPUT)/; fleet report: $(OUTPUT)/fleet-report/fleet_report.{html,md,csv,json} (host pages in fleet_report_hosts/)"

# ----------------------------------------------------------------- clean --

clean: ## remove .cache (staged copy, logs, py36 venv) and output/
	rm -rf $(CACHE) $(OUTPUT) tests/output .pytest_cache .hypothesis

distclean: clean ## clean, and remove .venv
	rm -rf $(VENV)
