# shop — the two commands: `make run` and `make test`. Everything installs itself into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Every absolute link the shop writes (emails, 3-D Secure, password reset, order status) starts with
# this; by default the address `make run` serves on (a wildcard host is reached on the loopback).
SHOP_PUBLIC_URL ?= http://$(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST)):$(PORT)
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx
IMAGE ?= shop:latest
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt constraints.txt | md5sum | cut -c1-10)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt constraints.txt | md5sum | cut -c1-10)

.PHONY: run test test-unit test-sqlite lint bench e2e install install-dev format clean browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(RUNTIME_STAMP): | $(PY)
	$(PIP) install -q -r requirements.txt -c constraints.txt
	@touch $@

$(DEV_STAMP): | $(PY)
	$(PIP) install -q -r requirements-dev.txt -c constraints.txt
	@touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

## Serve the shop on the embedded default (SQLite, local-memory cache, eager tasks) with demo data; without a broker
## the server also runs the periodic jobs (expiries, delayed payments, outbox sweep): `manage.py schedule` lists them.
run: install
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	@echo ""
	@$(PY) manage.py schedule
	@echo ""
	@echo "  Start page:            $(SHOP_PUBLIC_URL)/"
	@echo "  API docs (Swagger UI): $(SHOP_PUBLIC_URL)/api/docs/"
	@echo "  OpenAPI schema:        $(SHOP_PUBLIC_URL)/api/schema/"
	@echo "  Admin:                 $(SHOP_PUBLIC_URL)/admin/   (admin login above)"
	@echo "  Health:                $(SHOP_PUBLIC_URL)/healthz  ·  $(SHOP_PUBLIC_URL)/readyz"
	@echo "  Emails are printed here (console backend); links in them point at $(SHOP_PUBLIC_URL)"
	@echo ""
	SHOP_PUBLIC_URL=$(SHOP_PUBLIC_URL) $(PY) manage.py runserver $(HOST):$(PORT)

## The unit tier first (seconds, no services), then boundaries, lint, the whole suite on the real services
## it finds (loud banner for missing ones), then the search tests once more on SQLite.
test: install-dev test-unit browser gateway-nginx
	$(VENV)/bin/lint-imports --config importlinter.ini
	$(VENV)/bin/ruff check .
	$(PY) -m tests.harness $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-sqlite

## The unit tier: the kernel and pure functions, with every service URL unset and the network refused
## (tests/unit/isolation.py): no database, cache, broker or browser, in seconds.
UNIT_TESTS ?= tests/kernel tests/unit
test-unit: install-dev
	env -u REDIS_URL -u CELERY_BROKER_URL -u SHOP_TEST_BROKER_URL DATABASE_URL=sqlite:// SHOP_ENV=test $(PY) -m pytest -q $(UNIT_TESTS)

## The tests whose behaviour must be the same on the embedded default's database (SQLite): search.
SQLITE_TESTS ?= tests/catalog/test_search.py
test-sqlite: install-dev
	DATABASE_URL=sqlite:// $(PY) -m tests.harness $(SQLITE_TESTS)

## Debian's Chromium for tests/browser, from the machine's package manager (Playwright never downloads one).
browser:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests (apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	} || echo "WARNING: chromium could not be installed: browser tests are skipped (a failure with SHOP_REQUIRE_SERVICES=1)"

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --config importlinter.ini
	$(VENV)/bin/mypy shop tests/contracts  # the contract kit types each implementation as its Protocol

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-dev
	$(PY) -m bench.run $(BENCH_ARGS)

## The customer journey end to end over real processes (gunicorn, Celery, PostgreSQL, Redis, RabbitMQ, SMTP):
## one deployable, then payments and notifications split into their own services, then faults.
e2e: install-dev gateway-nginx
	SHOP_E2E=1 $(PY) -m pytest tests/e2e -v $(PYTEST_ARGS)

## The split topology in the foreground (main :8100, payments :8101, notifications :8102, the nginx gateway in front
## of them :8103); Ctrl-C stops all.
.PHONY: run-split
run-split: install-dev gateway-nginx
	$(PY) -m tests.e2e.topology split $(SPLIT_ARGS)

## The deployment artefacts, checked offline (also part of `make test`): hadolint on the Dockerfile, both Kustomize
## overlays built and schema-validated, compose.yaml against the Compose schema, the generated gateway files.
.PHONY: deploy-check image image-smoke compose-secrets
deploy-check: install-dev
	$(PY) -m tests.harness tests/deploy tests/registry/test_gateway.py

## The committed gateway files, regenerated from the URLconf (tests/deploy fails when they are stale): the Ingress
## of base and of the split overlay, the nginx file of compose.yaml's split profile.
SPLIT_UPSTREAMS := --upstream payments=payments-web:8000 --upstream notifications=notifications-web:8000
.PHONY: gateway-files
gateway-files: install
	$(PY) manage.py gateway_config --format ingress --default web:8000 > deploy/k8s/base/ingress.yaml
	$(PY) manage.py gateway_config --format ingress --default web:8000 $(SPLIT_UPSTREAMS) > deploy/k8s/overlays/split/ingress.yaml
	$(PY) manage.py gateway_config --format nginx --listen 8080 --default web:8000 $(SPLIT_UPSTREAMS) > deploy/compose/gateway.conf

## The image (Dockerfile), with a Docker engine: the running one, else Debian's docker.io started for the build
## only. Offline, the Python base image is made locally with debootstrap (deploy/docker/image.sh). IMAGE=shop:latest
image:
	IMAGE=$(IMAGE) deploy/docker/image.sh build

## Runs the image's migrate and web roles against this machine's PostgreSQL and asks /readyz (after make image).
image-smoke:
	IMAGE=$(IMAGE) deploy/docker/image.sh smoke

## The credentials compose.yaml mounts as Docker secrets, generated once into deploy/compose/secrets/ (git-ignored).
compose-secrets: install
	deploy/compose/make-secrets.sh

## Debian's nginx, the gateway in front of the split topology (make e2e, make run-split); never started as a service.
.PHONY: gateway-nginx
gateway-nginx:
	@test -x $(NGINX) || { \
	  echo "installing Debian's nginx for the gateway (apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null; \
	}

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
