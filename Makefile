# Two commands do everything on a fresh clone with Python 3.10+ and make:
#   make demo   create .venv, install permaudit, compare the bundled messenger fixtures
#   make test   create/update .venv with the test extras and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_FIXTURES := fixtures/apk/max-25.8.1.apk fixtures/apk/whatsapp-2.24.24.78.apk \
                 fixtures/apk/telegram-11.13.0.apk

.PHONY: demo test lint fixtures compiled knowledge-data exodus-oracle bench bench-trees bench-hostile \
        bench-exodus fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/permaudit compare $(DEMO_FIXTURES)

test: $(VENV)/.installed-test
	$(BIN)/ruff check permaudit tests fixtures bench
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	$(BIN)/ruff check permaudit tests fixtures bench
	$(BIN)/mypy permaudit

fixtures: $(VENV)/.installed
	$(BIN)/python fixtures/build.py

# Regenerate permaudit/android/data/permission_levels.json from androguard's AOSP data.
android-data: $(VENV)/.installed
	$(BIN)/python tools/android_levels.py

# Regenerate permaudit/knowledge/data/{exodus_trackers.json,public_suffix_icann.dat} from newer
# snapshots (development only: never in CI, never at run time). Pass EXODUS=... PSL=... to override.
EXODUS ?= ../shared/data/exodus/trackers.json
PSL    ?= /usr/share/publicsuffix/public_suffix_list.dat
knowledge-data: $(VENV)/.installed
	$(BIN)/python tools/knowledge_data.py $(EXODUS) $(PSL)

# Record exodus-core's own tracker detection (fed the snapshot $(EXODUS)) over the corpus and the
# fixtures as the oracles tests/knowledge/exodus_oracle_{corpus,fixtures}.json (development only).
# EXODUS_PYTHON is a venv of its own with exodus-core, never $(VENV):
#   python3 -m venv ../exodus-venv && ../exodus-venv/bin/pip install exodus-core
EXODUS_PYTHON ?= ../exodus-venv/bin/python
CORPUS ?= $(or $(PERMAUDIT_CORPUS),../shared/corpus)
ORACLE := tests/knowledge/exodus_oracle
exodus-oracle:
	cd $(CORPUS) && $(abspath $(EXODUS_PYTHON)) $(CURDIR)/tools/exodus_trackers.py \
	    --snapshot $(abspath $(EXODUS)) apk/* bundles/* > $(CURDIR)/$(ORACLE)_corpus.json.tmp
	$(EXODUS_PYTHON) tools/exodus_trackers.py --snapshot $(EXODUS) fixtures/apk/*.apk \
	    > $(ORACLE)_fixtures.json.tmp
	mv $(ORACLE)_corpus.json.tmp $(ORACLE)_corpus.json
	mv $(ORACLE)_fixtures.json.tmp $(ORACLE)_fixtures.json

# Regenerate the precompiled copies (*.compiled.json) after editing rules/*.yml or android/data/*.yml:
# the precompiled copy a scan reads instead of parsing the YAML (tests/test_compiled.py).
compiled: $(VENV)/.installed
	$(BIN)/python tools/compile_data.py

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_scan.py

# Two revisions side by side, each installed from its wheel (cached in /tmp/permaudit-trees):
# paired, interleaved rounds (docs/performance.md) and the hostile classes (docs/security.md).
BEFORE ?=
bench-trees: $(VENV)/.installed
	$(BIN)/python bench/bench_trees.py $(if $(BEFORE),--before $(BEFORE))

# permaudit's full scan (HEAD from its wheel) vs exodus-core's tracker detection run by
# EXODUS_PYTHON (see exodus-oracle above): the big multi-DEX APK and the corpus's apk/, paired
# rounds (docs/performance.md). Commit first: HEAD is what gets installed.
bench-exodus: $(VENV)/.installed
	PERMAUDIT_CORPUS=$(abspath $(CORPUS)) $(BIN)/python bench/bench_exodus.py --exodus-python $(EXODUS_PYTHON) --snapshot $(EXODUS) \
	    --rounds 3 --corpus

bench-hostile: $(VENV)/.installed-test
	$(BIN)/python bench/bench_hostile.py $(if $(BEFORE),--before $(BEFORE))

# Coverage-guided fuzzing (atheris) of the APK reader, the AXML and protobuf decoders for
# FUZZ_SECONDS in total, split evenly; seeds come from PERMAUDIT_CORPUS (see fuzz/README.md).
FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet atheris
	$(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
