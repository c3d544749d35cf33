# audio-course — two commands do everything on a fresh machine:
#   make run    venv + dependencies + a dataset, then execute every solution notebook into build/
#   make test   venv + dependencies, then ruff, the unit tests and the notebooks (nbval) on tiny data
# Also: make lab (JupyterLab on notebooks/), make notebooks (regenerate the student notebooks and
#       stamp every Colab link, README.md's included, from [project.urls] Repository in pyproject.toml),
#       make outputs (record the reference output of # NBVAL_CHECK_OUTPUT cells and the expected
#       figures of # EXPECTED_OUTPUT cells, notebooks/expected/), make clean.
# make run DATA=small|full  uses (and if needed downloads) that data tier; DATA=synthetic forces the
#   synthetic corpus; default DATA=auto: the full tier if downloaded, else small, else synthetic.
# make browser-test  JupyterLab in headless Chromium (needs apt's chromium; npm ci in tests/browser);
#   make test runs it too when chromium and npm are there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= auto

.PHONY: install data run test lint lab notebooks outputs clean browser-deps browser-test

install: $(STAMP)

# Re-install only when the requirements or the package metadata change. The kit goes in with --no-deps:
# requirements.txt has already installed its dependencies, and pip never touches the venv's torch.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	@touch $@

data: install
ifneq ($(filter small full,$(DATA)),)
	$(BIN)/python data_download.py --tier $(DATA)
	AUDIO_COURSE_DATA_KIND=$(DATA) $(BIN)/python -m helpers.course
else ifeq ($(DATA),synthetic)
	AUDIO_COURSE_DATA_KIND=synthetic $(BIN)/python -m helpers.course
else
	$(BIN)/python -m helpers.course
endif

run: data
	AUDIO_COURSE_DATA_KIND=$(filter small full synthetic,$(DATA)) $(BIN)/python tools/run_notebooks.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/build_student_notebooks.py --check

# Headless and quiet: AUDIO_COURSE_QUICK=1 (tiny synthetic data, short training), MPLBACKEND=Agg.
# The unit tests run on 2 processes (pytest-xdist), each test file whole on one of them.
test: install lint browser-deps
	AUDIO_COURSE_QUICK=1 MPLBACKEND=Agg $(BIN)/python -m pytest -n 2 --dist loadfile tests
	cd solutions && AUDIO_COURSE_QUICK=1 MPLBACKEND=Agg ../$(BIN)/python -m pytest -p no:cacheprovider \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 .

# playwright-core for the browser test, when this machine has chromium and npm (else it is skipped).
browser-deps:
	@if [ -x /usr/bin/chromium ] && command -v npm >/dev/null && \
	  [ ! tests/browser/node_modules/.package-lock.json -nt tests/browser/package-lock.json ]; then \
	  cd tests/browser && npm ci --no-audit --no-fund --loglevel=error; fi

browser-test: install browser-deps
	AUDIO_COURSE_BROWSER_TEST=required $(BIN)/python -m pytest -q tests/test_browser.py

lab: install
	$(BIN)/jupyter lab notebooks/

notebooks: install
	$(BIN)/ruff format -q solutions/
	$(BIN)/python tools/build_student_notebooks.py

outputs: install
	$(BIN)/python tools/run_notebooks.py --quick --no-html --out build/quick
	$(BIN)/python tools/build_student_notebooks.py --record build/quick --expected build/quick

clean:
	rm -rf build .pytest_cache
