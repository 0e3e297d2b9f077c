# The two commands of the README. Both create the environment when it is missing.
VENV ?= .venv
EXAMPLE ?= examples/heat_treatment/line.yaml

.PHONY: env demo test lint bench clean-env
env:
	@bash scripts/bootstrap.sh

demo: env
	$(VENV)/bin/vfactory simulate $(EXAMPLE)

test: env
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: env
	$(VENV)/bin/ruff check vfactory solvers cluster tests benchmarks

bench: env
	$(VENV)/bin/python -m benchmarks

clean-env:
	rm -rf $(VENV)
