# Performance (issue 10: fast on every log shape real hosts write, flat memory, incremental runs):
#   make bench      every shape at 200 MiB side by side with auvirt (the bench file; node= prefixes;
#                   UNKNOWN[n] records; three nodes interleaved; ENRICHED; AVC-heavy; a rotated set
#                   with .gz files), size curve 2M..200M, incremental re-run after +1 %; prints
#                   a table per shape and every target with met / NOT met
#   make bench-2g   the same with the curve up to 2 GiB (long: generates 2 GiB once)
# BENCH_RUNS=N sets the rounds (best of N).  Generated logs are cached in .cache/bench/
# (deterministic: tools/auditgen.py, about 1.5 GiB for every shape).
# Not part of `make test`: timings belong in a benchmark, not in a test.

BENCH_DIR := $(CACHE)/bench
BENCH_RUNS ?= 3

.PHONY: bench bench-2g

bench: ## benchmark: every log shape at 200 MiB vs auvirt, memory curve, incremental re-run; the targets
	@mkdir -p $(BENCH_DIR)
	python3 benchmarks/bench.py --dir $(BENCH_DIR) --main 200M --curve 2M,20M,200M --runs $(BENCH_RUNS) \
		--json $(BENCH_DIR)/results.json

bench-2g: ## benchmark with the memory/time curve up to 2 GiB
	@mkdir -p $(BENCH_DIR)
	python3 benchmarks/bench.py --dir $(BENCH_DIR) --main 200M --curve 2M,20M,200M,2G --runs 1 \
		--json $(BENCH_DIR)/results-2g.json
