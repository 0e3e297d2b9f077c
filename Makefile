# Shortcuts for the README's two commands (which work without make too).
.PHONY: demo test lint bench
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh $(PYTEST_ARGS)
lint:
	bash scripts/bootstrap.sh && .venv/bin/ruff check vfactory solvers cluster tests benchmarks
bench:
	bash scripts/bootstrap.sh && for b in benchmarks/bench_*.py; do .venv/bin/python $$b; done
