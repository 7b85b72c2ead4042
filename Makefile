# ExplainLab: `make site` builds the course, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := site

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch. An unpinned torch pulls gigabytes of CUDA wheels:
# override only on purpose, e.g. `make site TORCH_SPEC=torch==2.13.0+cu128`.
TORCH_SPEC ?= torch==2.13.0
PROFILE ?= $(or $(EXPLAINLAB_PROFILE),offline)
export EXPLAINLAB_PROFILE := $(PROFILE)
export NO_MKDOCS_2_WARNING := 1
# Idle OpenMP threads sleep instead of spinning: builds stay fast when jobs share the CPU.
export OMP_WAIT_POLICY := PASSIVE
INSTALLED := $(VENV)/.installed
# Browser libraries the site serves itself (RequireJS, d3, jQuery for BertViz; MathJax),
# pinned in docs/vendor/package-lock.json and installed with npm.
VENDOR := docs/vendor/node_modules/.package-lock.json

.PHONY: site test bench gpu-check gpu-carry serve install twins lessons vendor test-tools lint clean

$(INSTALLED): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --constraint <($(PY) -m pip freeze | grep -i '^torch==') \
		--editable ".[dev,mirror]"
	@touch $@

install: $(INSTALLED)

# The offline twins: trained on first use, then cached under EXPLAINLAB_HOME; two at a time
# on two cores or more (same weights as one at a time; `--jobs`).
twins: $(INSTALLED)
	$(PY) -m explainlab.cli zoo build
	$(PY) -m explainlab.cli zoo list

$(VENDOR): docs/vendor/package.json docs/vendor/package-lock.json
	cd docs/vendor && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

vendor: $(VENDOR)

# Every lesson of both languages executed with $(PROFILE), cached by content under
# EXPLAINLAB_HOME/lessons, two at a time; the site's hook (docs/hooks/explainlab_site.py)
# reads the cache.
lessons: twins
	$(PY) -m explainlab.lessons run --profile $(PROFILE)

site: lessons $(VENDOR)
	$(VENV)/bin/mkdocs build --strict --quiet --config-file mkdocs.yml
	$(VENV)/bin/mkdocs build --strict --quiet --config-file mkdocs.zh.yml
	@echo "site/ is ready (English at site/, Chinese at site/zh/); \`make serve\` to look at it."

# What the tests drive (Debian's chromium and a CJK font, shellcheck, aria2c), installed only
# when missing.
test-tools:
	@bash scripts/ensure-test-tools.sh

test: twins $(VENDOR) test-tools
	$(VENV)/bin/ruff check src tests docs/hooks benchmarks
	$(PY) -m pytest

# Measurements, not tests: cold/warm `make site`, and the explainers against
# transformers-interpret 0.10.0 and a plain Captum loop (ratios from the same run).
bench: twins $(VENDOR)
	$(PY) benchmarks/twins.py
	$(PY) benchmarks/site.py --twins cold
	$(PY) benchmarks/explainers.py

# Every lesson on CUDA and on the CPU, numbers compared (report in test-output/gpu-check/).
# Without a CUDA GPU it says so in one line and fails; twins are built only when there is one.
gpu-check: $(INSTALLED)
	$(eval GPU_STATUS := $(shell $(PY) -m explainlab.gpucheck cuda 2>&1 | tail -n 1))
	$(if $(filter ok,$(firstword $(GPU_STATUS))),,$(error $(GPU_STATUS)))
	$(PY) -m explainlab.gpucheck run --build-twins $(GPU_CHECK_ARGS)

# The wheels and twins a bare GPU machine lacks, cut into parts (build/gpu-carry/part-*);
# `make gpu-carry LESSONS=01,02` for some lessons only. See src/explainlab/gpucarry.py.
gpu-carry: twins
	$(PY) -m explainlab.gpucarry pack $(if $(LESSONS),--lessons $(LESSONS))

serve: site
	$(PY) -m http.server --directory site 8000

lint: $(INSTALLED)
	$(VENV)/bin/ruff check src tests

clean:
	rm -rf site test-output
