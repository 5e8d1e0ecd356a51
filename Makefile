# scalex: every experiment is a recipe sweep plus a target here.
#   make quickstart   venv + data + the small comparison on CPU + report   (README: time)
#   make test         the test suite on CPU
#   make EXPERIMENT SCALE=quickstart|smoke|mini|paper [SEEDS="1 2"] [DRY=1]   (docs/experiments.md)
#   make mini         data + the mini sweep + report on one GPU (docs/scales.md); DRY=1: runs, calls
# DATA=dir reads dir/en.* and dir/zh.* instead of streaming from the Hugging Face Hub; it
# defaults to ../shared/corpora when that folder exists (an offline copy of such text).
PY      ?= .venv/bin/python
# PY=python3 (a machine whose python already has the packages, e.g. the GPU machine): no venv
VENV    := $(if $(filter .venv/bin/python,$(PY)),venv,)
DATA    ?= $(if $(wildcard ../shared/corpora/en.jsonl.gz),../shared/corpora,)
LOCAL   := $(if $(DATA),--local_dir=$(DATA),)
SEEDS   ?=
SCALE   ?= quickstart
JOBS    ?= 1
EXPERIMENTS := lrl-only mix translate codeswitch order proportion scalex ablate-lr ablate-tokens multilingual lrl-epochs
SWEEP   = $(LOCAL) $(if $(SEEDS),--seeds="$(SEEDS)") --jobs=$(JOBS) $(if $(DRY),--dry_run)
# Seeds are whole numbers: a typo stops make at once, in one line (exit 2).
$(foreach v,SEEDS,$(if $(shell echo '$($(v))' | grep -E '[^0-9 ]'),$(error $(v): give whole numbers separated by spaces, e.g. $(v)="1 2"; got "$($(v))")))
# The quickstart's recipes: the three methods and the best-LRL-only sweep (lrl_only_epochs).
QS_RECIPES := lrl_only,lrl_only_epochs,joint,scalex

# bench runs where a GPU is; there the system python3 already has torch and triton.
BENCH_PY ?= $(if $(wildcard .venv/installed),$(PY),python3)

.PHONY: transform disjoint venv data quickstart smoke test report dry-run bench bench-data clean-venv \
	experiments $(EXPERIMENTS) mini mini-translate mini-pack mini-device results
.DEFAULT_GOAL := help

# This help: the header above, then every target with the first line of the comment over it.
help:
	@awk '!/^#/ {exit} {sub(/^# ?/, ""); print}' Makefile
	@echo; echo "targets:"
	@awk '/^#/ {if (c == "") c = substr($$0, 3); next} /^[a-z][a-zA-Z%-]*:/ {split($$0, t, ":"); if (c == "") print "  " t[1]; else printf "  %-15s %s\n", t[1], c} {c = ""}' Makefile
	@echo "experiments (SCALE=, SEEDS=, DRY=1, JOBS=): $(EXPERIMENTS) experiments mini mini-translate mini-pack mini-device"

venv: .venv/installed
.venv/installed: requirements.txt
	python3 -m venv .venv
	$(PY) -m pip install -q -r requirements.txt
	touch $@

data: $(VENV)
	$(PY) data.py prepare config/quickstart/data.py $(LOCAL)

# The quickstart: lrl_only, joint and scalex at the four English sizes of
# config/quickstart/sweep.py and the best-LRL-only sweep, one seed (SEEDS="1337 1338 1339" for
# three), as part of the quickstart suite (make experiments runs the rest); then the report.
quickstart: $(VENV)
	$(PY) sweep.py quickstart lrl-only mix scalex $(LOCAL) --seeds="$(or $(SEEDS),1337)" --only=$(QS_RECIPES)
	$(PY) eval.py report runs/quickstart

# The shared-token ablation and the data-transformation baselines at the quickstart sizes
# (kept names; the experiments below at SCALE=quickstart).
disjoint: ablate-tokens
transform: translate codeswitch

# ------------------------------------------------------------------ the paper's experiments
# Each experiment is a sweep of configs over HRL budgets and seeds (sweep.py; sizes in
# config/$(SCALE)/sweep.py); runs land in runs/$(SCALE)/EXPERIMENT/METHOD-enN-sSEED, finished
# ones are skipped, killed ones resume. DRY=1 lists every run with tokens, steps, FLOPs, totals.
$(EXPERIMENTS): $(VENV)
	$(PY) sweep.py $(SCALE) $@ $(SWEEP)

experiments: $(VENV)
	$(PY) sweep.py $(SCALE) all $(SWEEP)

# The mini reproduction on one H100/H200 (docs/scales.md): the core (lrl-only, mix, scalex at
# seeds 1337 and 1338, so a time limit never cuts the seed spread), then order and ablate-lr
# at one seed, four runs at a time on the one GPU (JOBS=N to change it). Then the report.
# make mini trains it all in one go; DRY=1 lists the runs and the calls of at most 8 minutes
# each (estimates; config/mini/sweep.py call_minutes) that a box which gives a command a few
# minutes at a time runs one by one (mini-device). translate needs the dictionary translation
# of 8M English tokens first: `make mini-translate`, a call of its own.
MINI_CORE  := sweep.py mini lrl-only mix scalex
MINI_EXTRA := sweep.py mini order ablate-lr --seeds=1337 '--ablate=[8000000]'
MINI_JOBS   = --jobs=$(if $(filter command line,$(origin JOBS)),$(JOBS),4)
mini: $(VENV)
	$(PY) $(MINI_CORE) $(LOCAL) $(MINI_JOBS) $(if $(DRY),--dry_run,--call_minutes=0)
	$(PY) $(MINI_EXTRA) $(LOCAL) $(MINI_JOBS) $(if $(DRY),--dry_run,--call_minutes=0)
	$(if $(DRY),,$(PY) eval.py report runs/mini)

mini-translate: $(VENV)
	$(PY) sweep.py mini translate $(LOCAL) --seeds=1337 $(MINI_JOBS) $(if $(DRY),--dry_run)

# What a GPU box without network needs that a clone lacks, in the ignored folder pack/ (copy
# it beside the clone there): prefixes of the offline corpora, parallel pairs and CC-CEDICT.
mini-pack: $(VENV)
	$(PY) sweep.py pack pack --from=$(or $(DATA),../shared/corpora)
	du -sh pack && du -ch pack $$(git ls-files) | tail -1

# One call of the mini run on such a box (at most 8 minutes by the estimate; plain python3
# lines in docs/scales.md for a box without make): the next share of the core, or once the
# core is done the next share of order and ablate-lr; then the report and an archive of the
# runs (no checkpoints) in $(OUT). Run it again until it says every run is done.
OUT ?= out
mini-device:
	mkdir -p $(OUT)
	python3 $(MINI_CORE) --local_dir=pack --jobs=4 2>&1 | tee $(OUT)/mini-core.log
	-grep -q '^all [0-9]* runs done' $(OUT)/mini-core.log && python3 $(MINI_EXTRA) --local_dir=pack --jobs=4 2>&1 | tee $(OUT)/mini-extra.log
	-python3 eval.py report runs/mini > $(OUT)/mini-report.log 2>&1
	tar czf $(OUT)/mini-runs.tgz --exclude='*.pt' --exclude='samples_*' runs/mini $$(ls data/mini*/manifest.json 2>/dev/null)

report: $(VENV)
	$(PY) eval.py report runs/$(SCALE)

# What the report needs of runs/$(SCALE) (summaries, run records, metrics; no checkpoints),
# copied into results/$(SCALE), which git keeps, and the report built there: numbers the README
# quotes come from a committed report that `make report`-style rebuilding reproduces.
results: $(VENV)
	mkdir -p results
	cd runs && find $(SCALE) \( -name summary.json -o -name config.json -o -name metrics.jsonl \
	  -o -name downstream.json -o -name bpb_extra.json \) | sort | tar cf - -T - | tar xf - -C ../results
	$(PY) eval.py report results/$(SCALE) $(if $(filter quickstart,$(SCALE)),--readme=README.md)

# Downstream evaluation of every finished run below runs/$(SCALE): multiple-choice TASKS
# (loader names, cached in data/tasks/, or .jsonl task files) -> each run's downstream.json and
# runs/$(SCALE)/accuracy.md; TEXT=zh:ood.jsonl,... adds bits/byte on extra text (bpb_extra.json).
TASKS ?= xcopa_zh,xstorycloze_zh,xstorycloze_en
TEXT  ?=
.PHONY: eval
eval: $(VENV)
	$(PY) eval.py downstream runs/$(SCALE) $(if $(TASKS),--tasks=$(TASKS),) $(if $(TEXT),--text=$(TEXT),)

dry-run: $(VENV)
	$(PY) sweep.py $(SCALE) all --dry_run

# The whole path at the smallest size: the main comparison (lrl-only, mix, scalex sweeps at two
# English budgets, the stage-2 ablation) and its report. CI runs it when ../shared/corpora exists.
smoke: $(VENV)
	$(PY) sweep.py smoke lrl-only mix scalex $(LOCAL)
	$(PY) eval.py report runs/smoke

# On a GPU, in one run: the Hopper compile table, kernel correctness in bf16 against float64,
# ours vs SDPA / torch / Liger-Kernel, a 124M training step, the loop's overhead; a table last
# and JSON under $(OUT) (BENCHMARKS.md). Without a GPU it says so in one line (exit 2).
bench:
	@PYTHONUNBUFFERED=1 $(BENCH_PY) bench.py all $(if $(OUT),--out=$(OUT),)

# Tokenisation MB/s per core (ours vs a one-process tiktoken loop) and peak memory of
# preparing 1 GB of text; needs real text (DATA or ../shared/corpora).
bench-data: $(VENV)
	$(PY) bench.py data $(LOCAL) --out=.

test: $(VENV)
	$(PY) -m pytest -q tests

clean-venv:
	rm -rf .venv
