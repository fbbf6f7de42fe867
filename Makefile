# Gatehouse: `make run` serves the example portal, `make test` runs every test.
# Works as root (CI) and as a user with sudo (apt-get only). GNU make.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.PHONY: help deps build check site run test bench-site bench-handler bench-approvals bench-lifecycle clean

SWIFT   ?= swift
# SwiftPM's build folder; a second checkout or tool can use its own (SCRATCH=.build-mine).
SCRATCH ?= .build
LISTEN  ?= 127.0.0.1:8080
HOST    := $(word 1,$(subst :, ,$(LISTEN)))
PORT    := $(word 2,$(subst :, ,$(LISTEN)))

BIN          = $(SCRATCH)/debug/gatehouse
NGINX        = $(firstword $(wildcard /usr/sbin/nginx) nginx)
NGINX_PREFIX = $(CURDIR)/var/nginx
SOCKET       = $(CURDIR)/var/run/gatehouse.sock
SUDO        := $(if $(filter 0,$(shell id -u)),,sudo)

# Everything `make run` and `make test` need; the bench adds hugo.
DEB_PACKAGES := libcmark-dev libfcgi-dev libsqlite3-dev pkg-config nginx curl

# $(call install_missing,PACKAGES): apt-get install those that dpkg does not list as installed.
# Installing nginx may start Debian's stock site on :80 (unless policy-rc.d forbids it, as in
# containers); if it did, stop and disable that service: Gatehouse runs its own instance.
define install_missing
missing=(); \
for p in $(1); do \
  dpkg -s "$$p" 2>/dev/null | grep '^Status: install ok installed' >/dev/null || missing+=("$$p"); \
done; \
if (( $${#missing[@]} )); then \
  echo "Installing Debian packages: $${missing[*]}"; \
  mkdir -p var; \
  { $(SUDO) apt-get update -q && \
    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$${missing[@]}"; \
  } > var/apt.log 2>&1 || { tail -n 20 var/apt.log; echo "apt-get failed; full log in var/apt.log" >&2; exit 1; }; \
  if [[ " $${missing[*]} " == *" nginx "* ]] && [ -s /run/nginx.pid ] && \
     $(SUDO) kill -0 "$$(cat /run/nginx.pid)" 2>/dev/null; then \
    echo "Stopping the system nginx service that apt started (Gatehouse runs its own on $(LISTEN))"; \
    if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now nginx >/dev/null 2>&1 || true; \
    else $(SUDO) service nginx stop >/dev/null 2>&1 || $(SUDO) kill -QUIT "$$(cat /run/nginx.pid)"; fi; \
  fi; \
fi
endef

help:
	@echo "make run          build the example site and serve it with its handler on http://$(LISTEN)/"
	@echo "make test         run every test (VERBOSE=1 lists each one)"
	@echo "make deps         install missing Debian packages ($(DEB_PACKAGES))"
	@echo "make build        swift build"
	@echo "make check        gatehouse check --site site"
	@echo "make bench-site   time a 10,000-package build against hugo"
	@echo "make bench-handler  wrk through nginx: gatehouse serve vs the C libfcgi + SQLite reference"
	@echo "make bench-approvals  approval pages (wrk through nginx, vs the C reference) and gatehouse sweep at scale"
	@echo "make bench-lifecycle  gatehouse sweep ending and reminding assignments among 1,000,000"
	@echo "make clean        remove public/, var/ and build products"

deps:
	@$(call install_missing,$(DEB_PACKAGES))

build: deps
	@echo "Building gatehouse (the first build takes a few minutes)"
	@$(SWIFT) build --quiet --scratch-path $(SCRATCH)

check: build
	@$(BIN) check --site site

site: check
	@$(BIN) build --site site --templates templates --out public

run: site
	@if (exec 3<>/dev/tcp/$(HOST)/$(PORT)) 2>/dev/null; then \
	  echo "$(LISTEN) is already in use (another make run?). Stop it, or: make run LISTEN=127.0.0.1:8081" >&2; \
	  exit 1; \
	fi
	@mkdir -p $(NGINX_PREFIX) $(dir $(SOCKET)) var/mail
	@nginx/render-conf.sh $(NGINX_PREFIX) $(CURDIR)/public $(LISTEN) $(SOCKET) > $(NGINX_PREFIX)/nginx.conf
	@echo
	@echo "Serving the portal on http://$(LISTEN)/access-packages/ (Ctrl-C stops it). Packages:"
	@for page in public/access-packages/*/index.html; do \
	  [ -e "$$page" ] || continue; id=$$(basename "$$(dirname "$$page")"); \
	  note=""; grep -qE '^hidden:[[:space:]]*true' "site/packages/$$id.md" 2>/dev/null && note="  (hidden: by link only)"; \
	  echo "  http://$(LISTEN)/access-packages/$$id/$$note"; \
	done
	@echo "Sign-in codes arrive as .eml files in var/mail/ (newest last: ls -tr var/mail | tail -1)."
	@echo "Approvers (e.g. adele@contoso.example) sign in the same way and decide at http://$(LISTEN)/approvals/."
	@echo "gatehouse sweep runs every minute (reminders, escalations, timeouts, scheduled starts)."
	@echo "Logs: the handler and the sweep on this terminal; nginx in var/nginx/error.log and access.log."
	@rm -f $(SOCKET)
	@$(BIN) serve --site site --templates templates --db var/gatehouse.sqlite --socket $(SOCKET) \
	  --mail-dir var/mail & serve=$$!; \
	( while sleep 60; do $(BIN) sweep --quiet --site site --db var/gatehouse.sqlite || true; done ) & sweeper=$$!; \
	stop() { kill -TERM $$sweeper $$serve 2>/dev/null || true; wait $$serve 2>/dev/null || true; }; \
	trap 'stop; echo; echo "Stopped."' INT TERM; \
	for _ in $$(seq 100); do [ -S $(SOCKET) ] && break; kill -0 $$serve 2>/dev/null || break; sleep 0.1; done; \
	if ! kill -0 $$serve 2>/dev/null; then echo "gatehouse serve did not start (see above)" >&2; exit 1; fi; \
	$(NGINX) -p $(NGINX_PREFIX)/ -c $(NGINX_PREFIX)/nginx.conf -e $(NGINX_PREFIX)/error.log || \
	  { status=$$?; [ $$status -eq 130 ] || [ $$status -eq 0 ] || echo "nginx stopped with status $$status; see var/nginx/error.log" >&2; }; \
	stop

# Swift Testing prints a line per test and suite; unless VERBOSE=1, only failures, anything
# else unexpected and the closing summary are shown. The exit status is swift test's.
TEST_FILTER := $(if $(VERBOSE),cat,awk '/^(◇|↳)/ || /^\[0\/1\] Planning build/ {next} /^✔ / && !/^✔ Test run with/ {next} \
  /^Test Suite .* (started|passed) at / {next} /^[[:space:]]*Executed 0 tests, with 0 failures/ {next} {print; fflush()}')

test: deps
	@echo "Building gatehouse and its tests (the first build takes a few minutes)"
	@$(SWIFT) build --quiet --build-tests --scratch-path $(SCRATCH)
	@$(SWIFT) test --skip-build --scratch-path $(SCRATCH) 2>&1 | $(TEST_FILTER)

bench-site: deps
	@$(call install_missing,hugo python3)
	@echo "Building gatehouse in release mode"
	@$(SWIFT) build --quiet -c release --product gatehouse --scratch-path $(SCRATCH)
	@python3 Tests/bench/bench_site.py --gatehouse $(SCRATCH)/release/gatehouse --work var/bench \
	  --hugo-generator ../shared/bench-baseline/hugo/gen_site.py

# Options for bench_handler.py, e.g. a quick try:
#   make bench-handler BENCH_HANDLER_ARGS="--people 1000 --requests 10000 --runs 1 --duration 3"
BENCH_HANDLER_ARGS ?=

bench-handler: deps
	@$(call install_missing,wrk spawn-fcgi gcc libsqlite3-dev python3)
	@echo "Building gatehouse in release mode"
	@$(SWIFT) build --quiet -c release --product gatehouse --scratch-path $(SCRATCH)
	@python3 Tests/bench/bench_handler.py --gatehouse $(SCRATCH)/release/gatehouse --work var/bench-handler \
	  --baseline ../shared/bench-baseline $(BENCH_HANDLER_ARGS)

# Options for bench_approvals.py, e.g. a quick try: make bench-approvals BENCH_APPROVALS_ARGS=--quick
BENCH_APPROVALS_ARGS ?=

bench-approvals: deps
	@$(call install_missing,wrk spawn-fcgi gcc libsqlite3-dev python3 tzdata time)
	@echo "Building gatehouse in release mode"
	@$(SWIFT) build --quiet -c release --product gatehouse --scratch-path $(SCRATCH)
	@python3 Tests/bench/bench_approvals.py --gatehouse $(SCRATCH)/release/gatehouse --work var/bench-approvals \
	  --baseline ../shared/bench-baseline $(BENCH_APPROVALS_ARGS)

# Options for bench_lifecycle.py, e.g. a quick try: make bench-lifecycle BENCH_LIFECYCLE_ARGS=--quick
BENCH_LIFECYCLE_ARGS ?=

bench-lifecycle: deps
	@$(call install_missing,python3 tzdata time)
	@echo "Building gatehouse in release mode"
	@$(SWIFT) build --quiet -c release --product gatehouse --scratch-path $(SCRATCH)
	@python3 Tests/bench/bench_lifecycle.py --gatehouse $(SCRATCH)/release/gatehouse --work var/bench-lifecycle \
	  $(BENCH_LIFECYCLE_ARGS)

clean:
	rm -rf public var
	$(SWIFT) package clean --scratch-path $(SCRATCH)
