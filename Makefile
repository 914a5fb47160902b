# Two entry points on a fresh Debian 12 machine, as root:
#   make run    install everything and start Card Explorer
#   make test   install everything and run the whole suite (private pcscd, no display needed)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# What the app needs at run time: one list, also the .deb's Depends.
RUNTIME_PACKAGES := $(shell sed 's/\#.*//' packaging/runtime-packages.txt | awk 'NF {print $$1}')
# Building pyscard, the test bed (pcscd + vpcd, pcsc-tools, procps for pgrep/pkill), a display for the
# X11 smoke check, the .deb checks (lintian, a debootstrap clean root), and OpenSC's tools that
# the PIV and OpenPGP analyzers are compared with.
BUILD_PACKAGES := pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc procps \
	python3 python3-venv python3-dev gcc make swig pkg-config binutils \
	xvfb xauth lintian debootstrap
APT_PACKAGES := $(BUILD_PACKAGES) $(RUNTIME_PACKAGES)
PYTEST_ARGS ?=

.PHONY: run test apt venv lint clean bundle deb

run: venv
	$(VENV)/bin/card-explorer

# The fixtures start and stop the private pcscd; the pkill only catches one a
# killed run left behind ([p] keeps the pattern from matching this shell).
test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	pkill -f '[p]cscd --foreground --config /tmp/card-explorer-testbed' 2>/dev/null; exit $$rc

# apt-get only when a package is missing, so a second `make test` costs nothing.
apt:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(APT_PACKAGES) 2>/dev/null \
		| awk '$$1 == "ii" {print $$2}' | sort | comm -13 - <(tr ' ' '\n' <<< "$(APT_PACKAGES)" | sed '/^$$/d' | sort)); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: apt $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

lint: venv
	$(VENV)/bin/ruff check explorer tests bench
	$(VENV)/bin/mypy explorer/core explorer/link explorer/pcsc explorer/virtual explorer/trace explorer/script explorer/apps explorer/services
	$(VENV)/bin/lint-imports

# One-folder PyInstaller bundle in dist/card-explorer/ (packaging/card-explorer.spec).
bundle: venv
	$(PY) packaging/build.py

# dist/card-explorer_<version>_<arch>.deb from the bundle (packaging/deb.py), checked by lintian.
deb: venv
	$(PY) packaging/build.py
	$(PY) packaging/deb.py --lintian

clean:
	rm -rf $(VENV) build dist *.egg-info
