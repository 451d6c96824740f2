# Performance (issue: faster than auvirt, flat memory, incremental runs):
#   make bench      200 MiB side by side (engine, auvirt, grep), size curve 2M..200M,
#                   incremental re-run after +1 %, windowed run; prints the targets
#   make bench-2g   the same with the curve up to 2 GiB (long: generates 2 GiB once)
# Generated logs are cached in .cache/bench/ (deterministic: tools/auditgen.py).
# Not part of `make test`: timings belong in a benchmark, not in a test.

BENCH_DIR := $(CACHE)/bench

.PHONY: bench bench-2g

bench: ## benchmark: engine vs auvirt vs grep on 200 MiB, memory curve, incremental and windowed runs
	@mkdir -p $(BENCH_DIR)
	python3 benchmarks/bench.py --dir $(BENCH_DIR) --main 200M --curve 2M,20M,200M --json $(BENCH_DIR)/results.json

bench-2g: ## benchmark with the memory/time curve up to 2 GiB
	@mkdir -p $(BENCH_DIR)
	python3 benchmarks/bench.py --dir $(BENCH_DIR) --main 200M --curve 2M,20M,200M,2G --runs 1 --json $(BENCH_DIR)/results-2g.json
