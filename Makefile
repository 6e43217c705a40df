# make run    serve the app on http://127.0.0.1:$(PORT)  (PORT=8000 by default)
# make test   run the whole test suite
# make bench  run every bench/bench_*.py (quick sizes unless BENCH_FULL=1)
# make serve-prod  production mode here: PostgreSQL, Redis, WORKERS daphne processes behind nginx
#                  on http://127.0.0.1:$(PORT) (docs/deploy.md); Ctrl+C or `make stop-prod` stops it
# Each target first installs what it needs: .venv + requirements.txt, then Debian packages.

PORT ?= 8000
WORKERS ?= 2
PYTHON ?= python3
VENV_PYTHON := .venv/bin/python
PO_FILES := $(wildcard web/locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test bench serve-prod stop-prod venv system-packages-run system-packages-test system-packages-prod \
	migrate clean

run: venv system-packages-run $(MO_FILES) migrate
	exec .venv/bin/daphne -b 127.0.0.1 -p $(PORT) web.asgi:application

# Browser tests run in a second pytest call: Playwright keeps an event loop of its own running,
# which must not meet the asyncio tests in one process.
test: venv system-packages-test $(MO_FILES)
	@$(VENV_PYTHON) -m pytest -m "not browser"; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; exit 5; fi; \
	if [ $$status -ne 0 ]; then exit $$status; fi; \
	$(VENV_PYTHON) -m pytest -m browser tests/browser; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: no browser tests collected; that is a failure" >&2; fi; \
	exit $$status

bench: venv system-packages-test
	@if [ -f bench/run_all.py ]; then $(VENV_PYTHON) bench/run_all.py; else echo "make bench: no bench/run_all.py"; fi

serve-prod: venv system-packages-prod $(MO_FILES)
	PORT=$(PORT) WORKERS=$(WORKERS) exec scripts/serve-prod.sh

stop-prod:
	@scripts/stop-prod.sh

venv:
	@PYTHON=$(PYTHON) scripts/ensure-venv.sh

system-packages-run:
	@scripts/ensure-system-packages.sh run

system-packages-test:
	@scripts/ensure-system-packages.sh test

system-packages-prod:
	@scripts/ensure-system-packages.sh prod

migrate: venv
	$(VENV_PYTHON) manage.py migrate --noinput -v 0

# Translations: rebuild a catalogue when its .po changed (msgfmt comes from gettext).
%.mo: %.po
	msgfmt --check -o $@ $<

clean:
	rm -rf var/test-db-*.sqlite3 .pytest_cache
