# ExplainLab: `make site` builds the course, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := site

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Every package of .venv at an exact version (the two projects aside): `make install` installs it,
# `make lock` rewrites it (scripts/course_lock.py), `make test-latest` reports the drift.
LOCK := course.lock
LOCKED_TORCH := $(shell grep -m1 -E '^torch==' $(LOCK) 2>/dev/null)
# The torch build, by default the lock's: PyTorch's CPU build (pip finds it in the find-links
# or index that carries it, e.g. PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu;
# without one it fails rather than pull the CUDA build). Override only on purpose:
# `make install TORCH_SPEC=torch==2.13.0+cu128` on a GPU machine (the rest stays locked; .venv
# then differs from the lock in torch and its CUDA packages), or
# `make lock TORCH_SPEC=torch==2.14.0+cpu` to move the lock to another torch.
TORCH_SPEC ?= $(or $(LOCKED_TORCH),torch==2.13.0+cpu)
# `make test-latest`: the newest releases pyproject.toml allows, in a venv and a twin cache of
# their own (the locked build's .venv and EXPLAINLAB_HOME stay as they are).
LATEST_VENV ?= .venv-latest
LATEST_HOME ?= $(or $(EXPLAINLAB_HOME),$(HOME)/.cache/explainlab)-latest
# `make lock`'s throwaway venv.
LOCK_VENV := build/lock-venv
PROFILE ?= $(or $(EXPLAINLAB_PROFILE),offline)
export EXPLAINLAB_PROFILE := $(PROFILE)
export NO_MKDOCS_2_WARNING := 1
# Idle OpenMP threads sleep instead of spinning: builds stay fast when jobs share the CPU.
export OMP_WAIT_POLICY := PASSIVE
INSTALLED := $(VENV)/.installed
# Browser libraries the site serves itself (RequireJS, d3, jQuery for BertViz; MathJax),
# pinned in docs/vendor/package-lock.json and installed with npm.
VENDOR := docs/vendor/node_modules/.package-lock.json

.PHONY: site test test-latest lock bench scale-check gpu-check gpu-carry serve install twins \
	lessons vendor \
	test-tools lint clean

# The lock's versions (pip first, then the rest with TORCH_SPEC's torch in the same resolution,
# so that nothing asks for another torch), the learner's package and the course factory (tools/)
# with --no-deps and the lock's
# setuptools; then whatever the lock does not hold is uninstalled and .venv is checked against it.
$(INSTALLED): $(LOCK) pyproject.toml tools/pyproject.toml Makefile scripts/course_lock.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --requirement <(grep -E '^pip==' $(LOCK))
	$(PY) -m pip install --quiet --requirement <(grep -v -E '^torch==' $(LOCK)) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable . --editable tools
ifeq ($(TORCH_SPEC),$(LOCKED_TORCH))
	$(PY) scripts/course_lock.py sync --lock $(LOCK)
endif
	$(PY) -m pip check
	@touch $@

install: $(INSTALLED)

# Rewrites the lock: TORCH_SPEC's torch and the project with its extras at the newest releases
# pyproject.toml allows, in a throwaway venv; `git diff course.lock` shows what moved.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" --editable . \
		--editable "tools[dev,mirror]"
	$(LOCK_VENV)/bin/python -m pip check
	$(LOCK_VENV)/bin/python scripts/course_lock.py write $(LOCK)
	rm -rf $(LOCK_VENV)

# The tests against the newest releases pyproject.toml allows (torch stays TORCH_SPEC's): a fresh
# $(LATEST_VENV), twins built under $(LATEST_HOME), every test but the one that holds .venv to
# the lock; then what drifted from the lock (package, locked, newest). Not part of `make test`.
test-latest: $(VENDOR) test-tools
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" --editable . \
		--editable "tools[dev,mirror]"
	$(LATEST_VENV)/bin/python -m pip check
	EXPLAINLAB_HOME=$(LATEST_HOME) $(LATEST_VENV)/bin/python -m explainlab_course zoo build
	status=0; EXPLAINLAB_HOME=$(LATEST_HOME) $(LATEST_VENV)/bin/python -m pytest \
		--deselect tests/test_lock.py::test_environment_matches_lock || status=$$?; \
	$(LATEST_VENV)/bin/python scripts/course_lock.py drift --lock $(LOCK); exit $$status

# The offline twins: trained on first use, then cached under EXPLAINLAB_HOME; two at a time
# on two cores or more (same weights as one at a time; `--jobs`).
twins: $(INSTALLED)
	$(PY) -m explainlab_course zoo build
	$(PY) -m explainlab_course zoo list

$(VENDOR): docs/vendor/package.json docs/vendor/package-lock.json
	cd docs/vendor && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

vendor: $(VENDOR)

# Every lesson of both languages executed with $(PROFILE), cached by content under
# EXPLAINLAB_HOME/lessons, two at a time; the site's hook (docs/hooks/explainlab_site.py)
# reads the cache.
lessons: twins
	$(PY) -m explainlab_course.course sync
	$(PY) -m explainlab_course.lessons run --profile $(PROFILE)

site: lessons $(VENDOR)
	$(VENV)/bin/mkdocs build --strict --quiet --config-file mkdocs.yml
	$(VENV)/bin/mkdocs build --strict --quiet --config-file mkdocs.zh.yml
	@echo "site/ is ready (English at site/, Chinese at site/zh/); \`make serve\` to look at it."

# What the tests drive (Debian's chromium and a CJK font, shellcheck, aria2c), installed only
# when missing.
test-tools:
	@bash scripts/ensure-test-tools.sh

test: twins $(VENDOR) test-tools
	$(VENV)/bin/ruff check src tools/src tests docs/hooks benchmarks scripts
	$(PY) -m pytest

# Measurements, not tests: cold/warm `make site`, the explainers against
# transformers-interpret 0.10.0 and a plain Captum loop, and the explainers and Qwen3 at the
# real models' size, memory-bound against one pass (ratios from the same run).
bench: twins $(VENDOR)
	$(PY) benchmarks/twins.py
	$(PY) benchmarks/site.py --twins cold
	$(PY) benchmarks/explainers.py
	$(PY) benchmarks/scale.py

# Every lesson of both languages on full-size stand-ins of the real models (published
# configuration and dtype, random weights; tools/src/explainlab_course/scale/models.json) on the
# CPU: time, peak RSS and peak GPU memory of every cell in test-output/scale/report.{json,txt}.
# Not part of `make test`. SCALE_ARGS="--device cuda" on a GPU. What the lesson pages say they
# need comes from reports: `python -m explainlab_course.scale requirements REPORT.json...`.
scale-check: twins
	$(PY) -m explainlab_course.scale check $(SCALE_ARGS)

# Every lesson on CUDA and on the CPU, numbers compared (report in test-output/gpu-check/);
# then every lesson on the full-size stand-ins on CUDA (test-output/gpu-check/scale/).
# Without a CUDA GPU it says so in one line and fails; twins are built only when there is one.
gpu-check: $(INSTALLED)
	$(eval GPU_STATUS := $(shell $(PY) -m explainlab_course.gpucheck cuda 2>&1 | tail -n 1))
	$(if $(filter ok,$(firstword $(GPU_STATUS))),,$(error $(GPU_STATUS)))
	status=0; \
	$(PY) -m explainlab_course.gpucheck run --build-twins $(GPU_CHECK_ARGS) || status=$$?; \
	$(PY) -m explainlab_course.scale check --device cuda --out test-output/gpu-check/scale \
		|| status=$$?; \
	exit $$status

# The wheels and twins a bare GPU machine lacks, cut into parts (build/gpu-carry/part-*);
# `make gpu-carry LESSONS=01,02` for some lessons only. See tools/src/explainlab_course/gpucarry.py.
gpu-carry: twins
	$(PY) -m explainlab_course.gpucarry pack $(if $(LESSONS),--lessons $(LESSONS))

serve: site
	$(PY) -m http.server --directory site 8000

lint: $(INSTALLED)
	$(VENV)/bin/ruff check src tools/src tests scripts

clean:
	rm -rf site test-output
