# scalex: every experiment is a config file plus a target here.
#   make quickstart   venv + data + the small comparison on CPU + report   (README: time)
#   make test         the test suite on CPU
# DATA=dir reads dir/en.* and dir/zh.* instead of streaming from the Hugging Face Hub; it
# defaults to ../shared/corpora when that folder exists (an offline copy some machines have).
PY      := .venv/bin/python
DATA    ?= $(if $(wildcard ../shared/corpora/en.jsonl.gz),../shared/corpora,)
LOCAL   := $(if $(DATA),--local_dir=$(DATA),)
SEEDS   ?= 1337
QS_HRL  ?= 200000 800000
SM_HRL  ?= 60000 120000
QS_METHODS := lrl_only joint scalex
ALL_METHODS := lrl_only joint scalex seq_hrl_lrl seq_lrl_hrl fixed_mix

# bench runs where a GPU is; there the system python3 already has torch and triton.
BENCH_PY ?= $(if $(wildcard .venv/installed),$(PY),python3)

.PHONY: transform disjoint venv data quickstart quickstart-all smoke test report dry-run bench bench-data clean-venv
.DEFAULT_GOAL := help

help:
	@sed -n '1,6p' Makefile | sed 's/^# \{0,1\}//'
	@echo "targets: venv data quickstart quickstart-all qs-METHOD smoke test report dry-run bench bench-data disjoint transform"

venv: .venv/installed
.venv/installed: requirements.txt
	python3 -m venv .venv
	$(PY) -m pip install -q -r requirements.txt
	touch $@

data: venv
	$(PY) data.py prepare config/quickstart/data.py $(LOCAL)

# $(call runs,SCALE,METHODS,OUT): every method of config/SCALE at every QS_HRL size and seed,
# as runs/OUT/METHOD-enSIZE-sSEED. --resume makes a re-run skip finished runs and continue
# killed ones.
runs = @for h in $(QS_HRL); do for m in $(2); do for s in $(SEEDS); do \
	  $(PY) train.py config/$(1)/$$m.py --budget.en=$$h --seed=$$s \
	    --run_name=$(3)/$$m-en$$h-s$$s --resume || exit 1; done; done; done

qs-%: data
	$(call runs,quickstart,$*,quickstart)

quickstart: $(addprefix qs-,$(QS_METHODS))
	$(PY) eval.py report runs/quickstart

quickstart-all: $(addprefix qs-,$(ALL_METHODS))
	$(PY) eval.py report runs/quickstart

# The shared-token ablation: joint and scalex again on data whose tokenizer shares no id
# between languages; compare runs/disjoint/report.md with runs/quickstart/report.md.
disjoint: venv
	$(PY) data.py prepare config/disjoint/data.py $(LOCAL)
	$(PY) data.py stats config/disjoint/data.py
	$(call runs,disjoint,joint scalex,disjoint)
	$(PY) eval.py report runs/disjoint

# The data-transformation baselines (translation, code-switching of English into Chinese)
# at the quickstart sizes, reported beside the quickstart's methods.
transform: venv
	$(PY) data.py prepare config/transform/data.py $(LOCAL)
	$(PY) data.py stats config/transform/data.py
	$(call runs,transform,translate codeswitch,quickstart)
	$(PY) eval.py report runs/quickstart

report: venv
	$(PY) eval.py report runs/quickstart

dry-run: venv
	@for m in $(ALL_METHODS); do $(PY) train.py config/quickstart/$$m.py --dry_run || exit 1; echo; done

# The same path at the smallest size (CI runs it when ../shared/corpora exists).
smoke: venv
	$(PY) data.py prepare config/smoke/data.py $(LOCAL)
	@for h in $(SM_HRL); do for m in $(QS_METHODS); do \
	  $(PY) train.py config/smoke/$$m.py --budget.en=$$h --run_name=smoke/$$m-en$$h --resume || exit 1; done; done
	$(PY) eval.py report runs/smoke

# On a GPU, in one run: the Hopper compile table, kernel correctness in bf16 against float64,
# ours vs SDPA / torch / Liger-Kernel, a 124M training step, the loop's overhead; a table last
# and JSON under $(OUT) (BENCHMARKS.md). Without a GPU it says so in one line (exit 2).
bench:
	@PYTHONUNBUFFERED=1 $(BENCH_PY) bench.py all $(if $(OUT),--out=$(OUT),)

# Tokenisation MB/s per core (ours vs a one-process tiktoken loop) and peak memory of
# preparing 1 GB of text; needs real text (DATA or ../shared/corpora).
bench-data: venv
	$(PY) bench.py data $(LOCAL) --out=.

test: venv
	$(PY) -m pytest -q tests

clean-venv:
	rm -rf .venv
