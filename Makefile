# waxseal's two front doors: `make demo` signs the bundled example against a local Sigstore stack,
# `make test` runs every test (unit, then end-to-end against the local stack). CI runs `make test`.
SHELL := /bin/bash
GO ?= go

.PHONY: test unit e2e demo stack-install build bench lint

test: unit e2e

unit:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -race -shuffle=on ./...

stack-install:
	test/stack/install.sh

# The e2e tests run inside a private network namespace with the whole stack on its loopback.
e2e: stack-install
	$(GO) test -tags e2e -run XXX_compile_only ./... >/dev/null
	test/stack/run.sh $(GO) test -tags e2e -race -count=1 -timeout 20m ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o .cache/bin/waxseal ./cmd/waxseal

demo: build stack-install
	test/stack/run.sh scripts/demo.sh

bench: build stack-install
	bench/run.sh
