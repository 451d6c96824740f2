# The collection artifact (tests/packaging/):
#   make packaging   ansible-galaxy collection build + install from a copy of the
#                    checkout with test litter in it; checks what is shipped, the
#                    metadata and that ansible-doc documents every installed plugin
SUITES += packaging

.PHONY: packaging

packaging: $(VENV_STAMP) ## build and install the collection artifact; check its content and ansible-doc
	@mkdir -p $(LOGS)
	$(IN_VENV) $(VPY) -m pytest -ra -p no:cacheprovider tests/packaging 2>&1 | tee $(LOGS)/packaging.log
