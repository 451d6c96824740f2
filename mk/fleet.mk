# Fleet report suites (roles/fleet_report, playbooks/fleet_report.yml):
#   make molecule        molecule scenario: simulated fleet incl. an unreachable host
#   make runner          the playbook under ansible-runner, judged by its artifacts
#   make report-browser  the HTML report in headless Chromium (screenshot + script errors)
#   make bench-fleet     benchmark at 10/200/1,000 hosts + one busy host (not in make test)
# Unit tests of the fleet code run with `make units` (tests/unit).

FLEET_STAMP := $(VENV)/.fleet-installed
FLEET_SHOTS := $(LOGS)/report-browser

SUITES += molecule runner report-browser

.PHONY: fleet-venv molecule runner report-browser chromium

fleet-venv: $(FLEET_STAMP) ## install tests/requirements-fleet.txt (ansible-runner) into .venv

$(FLEET_STAMP): $(VENV_STAMP) tests/requirements-fleet.txt
	$(VPY) -m pip install -q -r tests/requirements-fleet.txt
	touch $@

chromium: ## make sure Debian's chromium exists for report-browser (apt-get as root)
	@command -v chromium >/dev/null 2>&1 || scripts/apt_install.sh chromium \
		|| echo "*** WARNING: chromium not installed: report-browser will be SKIPPED ***"

molecule: $(VENV_STAMP) stage ## molecule test -s fleet_report (default driver, local connection, one unreachable host)
	@mkdir -p $(LOGS)
	cd extensions && $(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(CACHE)" ANSIBLE_FORCE_COLOR=false PY_COLORS=0 \
		molecule test -s fleet_report 2>&1 | tee $(LOGS)/molecule.log

runner: $(FLEET_STAMP) stage ## pytest tests/runner: the fleet playbook under ansible-runner (status, stats, set_stats artifacts)
	@mkdir -p $(LOGS)
	$(IN_VENV) VIRTAUDIT_COLLECTIONS_PATH="$(CACHE)" $(VPY) -m pytest -ra -p no:cacheprovider tests/runner 2>&1 \
		| tee $(LOGS)/runner.log

report-browser: $(VENV_STAMP) stage chromium ## pytest tests/report_browser: HTML report in headless Chromium; screenshot in .cache/logs/report-browser/
	@mkdir -p $(LOGS) $(FLEET_SHOTS)
	$(IN_VENV) VIRTAUDIT_COLLECTIONS_PATH="$(CACHE)" FLEET_REPORT_SCREENSHOT_DIR="$(FLEET_SHOTS)" \
		$(VPY) -m pytest -ra -p no:cacheprovider tests/report_browser 2>&1 | tee $(LOGS)/report-browser.log

# ------------------------------------------------------------ benchmark --
# Not part of `make test` (timings belong in a benchmark).  Generated fleets
# are cached in .cache/bench-fleet/ (deterministic: tools/auditgen.py fleet).

BENCH_FLEET_DIR := $(CACHE)/bench-fleet
BENCH_FLEET_SIZES ?= 10,200,1000

.PHONY: bench-fleet

bench-fleet: $(VENV_STAMP) stage ## benchmark: the fleet report at 10/200/1,000 hosts and one busy host vs a bare playbook, with the targets
	@mkdir -p $(BENCH_FLEET_DIR)
	$(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(CACHE)" $(VPY) benchmarks/bench_fleet.py --dir $(BENCH_FLEET_DIR) \
		--sizes $(BENCH_FLEET_SIZES) --busy 50M --json $(BENCH_FLEET_DIR)/results.json 2>&1 | tee $(BENCH_FLEET_DIR)/bench-fleet.log
