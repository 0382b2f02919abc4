# The two commands that matter: `make run` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOT ?= $(shell command -v python3.11 || command -v python3)
PYTHON_ENGINE ?= $(shell PYENV_VERSION=3.10.13 command -v python3.10 >/dev/null 2>&1 && echo "env PYENV_VERSION=3.10.13 python3.10" || command -v python3.10)
BOT := .venv/bin/python
RASA := .venv-rasa/bin/rasa
LANGS := $(shell sed -n 's/^\([a-z][a-z][a-z]*\):.*/\1/p' knowledge_base/languages.yml)
BABEL_KEYWORDS := -k _ -k n_:1,2 -k p_:1c,2
# `make preview LANG=ar`: LANG only when given on the command line (otherwise it is the terminal's locale).
LANG_CODE := $(if $(filter command line,$(origin LANG)),$(LANG),)

.PHONY: help install run console train flows catalogs check-content validate lint typecheck test test-fast \
	accuracy bench bench-smoke lock-engine clean

help:
	@echo "make run            install what is missing, train if needed, run the assistant"
	@echo "                    (Telegram when TELEGRAM_BOT_TOKEN is set, otherwise a console chat)"
	@echo "make test           every check and test (what CI runs)"
	@echo "make check-content  check answers, examples, catalogs and danger phrases"
	@echo "make coverage       topics x languages: answered, missing, outdated (and docs/COVERAGE.md)"
	@echo "make preview TOPIC=rights_detention LANG=ar"
	@echo "                    an answer or a flow as Telegram shows it (LANG=all: every language)"
	@echo "make review         what awaits review; make approve TOPIC=.. LANG=.. BY=\"Name\" (or FILE=..)"
	@echo "make suggestions    answers volunteers marked with /good (ARGS='--all', '--done ID', '--export F.yml')"
	@echo "make train          retrain the engine's model if its sources changed (shows progress and time left),"
	@echo "                    then check held-out accuracy; fails loudly when a language got worse"
	@echo "make catalogs       extract interface strings and update every language's catalog"
	@echo "make language CODE=ps NAME=Pashto NATIVE=پښتو"
	@echo "                    add a language: its files to translate (DRY_RUN=1: only list them)"
	@echo "make flows          regenerate flows/ from knowledge_base/topics.yml"
	@echo "make accuracy       held-out intent accuracy per language (rasa test nlu) -> bench/UNDERSTANDING.md"
	@echo "make bench          measure speed, memory, language identification and understanding;"
	@echo "                    rewrites bench/REPORT.md (about 15 minutes)"

# --- environments ---------------------------------------------------------------------------
.venv/.installed: pyproject.toml
	$(PYTHON_BOT) -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -e '.[dev]'
	touch $@

.venv-rasa/.installed: requirements/engine.lock
	@test -n "$(PYTHON_ENGINE)" || { echo "Python 3.10 is needed for the engine (pyenv 3.10.13)"; exit 1; }
	$(PYTHON_ENGINE) -m venv .venv-rasa
	.venv-rasa/bin/pip install --quiet --upgrade 'pip<25'
	.venv-rasa/bin/pip install --quiet --no-deps -r requirements/engine.lock
	touch $@

install: .venv/.installed .venv-rasa/.installed

lock-engine: .venv-rasa/.installed
	{ sed -n '1,2p' requirements/engine.lock; .venv-rasa/bin/pip freeze --all | grep -v '^pip=='; } > requirements/engine.lock.new
	mv requirements/engine.lock.new requirements/engine.lock

# --- running --------------------------------------------------------------------------------
run: install
	$(BOT) -m bot train
	$(BOT) -m bot run

console: install
	$(BOT) -m bot console

train: install
	$(BOT) -m bot train --evaluate

# --- content --------------------------------------------------------------------------------
flows: .venv/.installed
	$(BOT) -m bot flows

catalogs: .venv/.installed
	.venv/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-comments=TRANSLATORS: \
		--no-location --sort-output --project=refuge-assistant -o locales/messages.pot .
	@for lang in $(filter-out en,$(LANGS)); do \
		if [ -f locales/$$lang/LC_MESSAGES/messages.po ]; then \
			.venv/bin/pybabel update --no-fuzzy-matching -i locales/messages.pot -d locales -l $$lang; \
		else \
			.venv/bin/pybabel init -i locales/messages.pot -d locales -l $$lang; \
		fi; \
	done
	.venv/bin/pybabel compile -d locales --statistics

check-content: .venv/.installed
	$(BOT) -m bot check-content

.PHONY: coverage preview review approve
coverage: .venv/.installed
	$(BOT) -m bot coverage

preview: .venv/.installed
	$(BOT) -m bot preview $(TOPIC) $(if $(LANG_CODE),--language $(LANG_CODE))

review: .venv/.installed
	$(BOT) -m bot review

approve: .venv/.installed
	$(BOT) -m bot approve --by "$(BY)" $(if $(TOPIC),--topic "$(TOPIC)" --language "$(or $(LANG_CODE),en)") \
		$(if $(FILE),--file "$(FILE)")

.PHONY: suggestions
suggestions: .venv/.installed
	$(BOT) -m bot suggestions $(ARGS)

.PHONY: language
language: .venv/.installed
	$(BOT) -m bot add-language "$(CODE)" --name "$(NAME)" --native "$(NATIVE)" $(if $(DRY_RUN),--dry-run)

validate: install
	cd . && RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONPATH=. \
		$(RASA) data validate --fail-on-warnings --config config.yml --domain flows/domain --data nlu flows/rules

# --- quality --------------------------------------------------------------------------------
lint: .venv/.installed
	.venv/bin/ruff check bot tests bench engine nlu

typecheck: .venv/.installed
	.venv/bin/mypy

test-fast: .venv/.installed
	$(BOT) -m pytest -q -m "not engine"

# PostgreSQL tests run against a throwaway server on loopback (scripts/test-postgres).
test: install check-content validate lint typecheck
	$(BOT) -m bot train
	@url=$$(scripts/test-postgres start); \
	TEST_POSTGRES_URL=$$url $(BOT) -m pytest -q; status=$$?; \
	scripts/test-postgres stop; exit $$status
	$(MAKE) --no-print-directory bench-smoke

# --- benchmarks -----------------------------------------------------------------------------
bench: install
	$(BOT) -m bot train
	$(BOT) -m bench
	@url=$$(scripts/test-postgres start); \
	$(BOT) -m bench.handoff --postgres $$url; status=$$?; \
	scripts/test-postgres stop; exit $$status

accuracy: install
	$(BOT) -m bench.heldout

bench-smoke: install
	$(BOT) -m bot train
	$(BOT) -m bench --smoke
	$(BOT) -m bench.handoff --smoke --postgres ""

clean:
	rm -rf .run .rasa .pytest_cache .mypy_cache .ruff_cache
