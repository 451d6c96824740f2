# The Event-Driven Ansible event source virtaudit.auvirt.guest_events (docs/events.md):
#   make eda   tests/eda: the source's main() under asyncio against a log that is
#              appended to and rotated like auditd does it, restarts from the
#              checkpoint, options and failures; and the source under a real
#              ansible-rulebook, whose rulebook runs a playbook when a guest
#              crashes (reaction within 10 s).  The second part needs Java 17:
#              installed with apt-get as root when missing, else it is SKIPPED
#              with the reason (VIRTAUDIT_REQUIRE_RULEBOOK=1: a failure).
# The derivation and the follower are unit-tested in `make units`.

EDA_STAMP := $(VENV)/.eda-installed

SUITES += eda

.PHONY: eda-venv java eda

eda-venv: $(EDA_STAMP) ## install tests/requirements-eda.txt (ansible-rulebook) into .venv

$(EDA_STAMP): $(VENV_STAMP) tests/requirements-eda.txt
	$(VPY) -m pip install -q -r tests/requirements-eda.txt
	touch $@

java: ## make sure a Java 17 runtime exists for ansible-rulebook (apt-get as root)
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || scripts/apt_install.sh openjdk-17-jre-headless \
		|| echo "*** WARNING: no Java 17 runtime: the ansible-rulebook test of make eda will be SKIPPED ***"

eda: $(EDA_STAMP) stage java ## pytest tests/eda: the guest_events source under asyncio and under a real ansible-rulebook
	@mkdir -p $(LOGS)
	$(IN_VENV) VIRTAUDIT_COLLECTIONS_PATH="$(CACHE)" $(VPY) -m pytest -ra -p no:cacheprovider tests/eda 2>&1 \
		| tee $(LOGS)/eda.log
