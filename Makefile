# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/showcaller rehearse config.example.toml --obs sim --speed 120 --web-port 0

test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src

bench: $(STAMP)
	$(BIN)/python bench/obs_rtt.py
	$(BIN)/python bench/timing.py
	$(BIN)/python bench/checks.py --real
	$(BIN)/python bench/health_cost.py --real
	$(BIN)/python bench/provision.py --real
	$(BIN)/python bench/rooms.py
	$(BIN)/python bench/web_load.py
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
