# Two entry points: `make demo` and `make test`. Both install exactly what uv.lock pins into .venv
# (runtime for the demo, runtime + the dev group for the tests) and never re-resolve: a lock that
# disagrees with pyproject.toml is an error telling you to run `make lock`.
#
# uv itself is bootstrapped into .tools/ from PyPI with the interpreter below, so a machine with
# only python3.11 is enough. uv uses that interpreter and never downloads one.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := .venv/bin

export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
export UV_NO_PROGRESS := 1

.PHONY: demo test lint lock upgrade bench build clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

demo: $(UV)
	$(UV) sync --locked --no-dev --inexact --quiet
	$(BIN)/yorisoi demo

# --compile-bytecode and compileall: where PYTHONDONTWRITEBYTECODE is set (as on CI here), every
# Python process the tests start (CLI, web workers, Prefect servers) would otherwise compile
# its imports from source again.
lint: $(UV)
	$(UV) lock --check
	$(UV) sync --locked --quiet --compile-bytecode
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m compileall -q -j 0 yorisoi models states flows notifications >/dev/null
	$(BIN)/pytest -n auto --durations=10

# After editing dependencies in pyproject.toml: write the lock anew, keeping every other pin.
lock: $(UV)
	$(UV) lock

# The deliberate step forward: newest versions the pins in pyproject.toml allow, then the tests.
upgrade: $(UV)
	$(UV) lock --upgrade
	$(MAKE) test

bench: $(UV)
	$(UV) sync --locked --quiet
	$(BIN)/python bench/transitions.py

build: $(UV)
	$(UV) build

clean:
	rm -rf .venv $(TOOLS) dist .pytest_cache .ruff_cache .mypy_cache .hypothesis
