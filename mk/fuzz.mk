# Hardening (issue 6, docs/hardening.md): the corpus of real audit data, property
# and fuzz tests (hypothesis), faults and hostile names - tests/hardening/.
#   make hardening   the fixed-seed share that `make test` runs (about 30 s)
#   make fuzz        the full run: more than 100 000 generated cases (about 15 min);
#                    FUZZ_SEED=N repeats a run, FUZZ_FACTOR=N scales every budget
# Both print the number of generated cases per property at the end and write it
# to .cache/logs/<target>-cases.json.

HARDENING_SEED ?= 20240311
FUZZ_FACTOR ?= 60
FUZZ_SEED ?=

SUITES += hardening

.PHONY: hardening fuzz

hardening: $(VENV_STAMP) ## hardening suite with a fixed seed (corpus, faults, hostile names, ~2 000 fuzz cases)
	@mkdir -p $(LOGS)
	HARDENING_PROFILE=share HARDENING_COUNT_FILE=$(LOGS)/hardening-cases.json \
		$(VPY) -m pytest -ra -p no:cacheprovider tests/hardening --hypothesis-seed=$(HARDENING_SEED) 2>&1 \
		| tee $(LOGS)/hardening.log

fuzz: $(VENV_STAMP) ## full fuzz run (>100 000 cases); FUZZ_SEED=N fixes the seed, FUZZ_FACTOR=N scales the budgets
	@mkdir -p $(LOGS)
	@seed="$(FUZZ_SEED)"; [ -n "$$seed" ] || seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	echo "make fuzz: seed $$seed, budget factor $(FUZZ_FACTOR) (repeat with: make fuzz FUZZ_SEED=$$seed)" \
		| tee $(LOGS)/fuzz.log; \
	HARDENING_PROFILE=fuzz HARDENING_FUZZ_FACTOR=$(FUZZ_FACTOR) HARDENING_COUNT_FILE=$(LOGS)/fuzz-cases.json \
		$(VPY) -m pytest -ra -p no:cacheprovider tests/hardening --hypothesis-seed=$$seed 2>&1 \
		| tee -a $(LOGS)/fuzz.log
