# waxseal's two front doors: `make demo` signs the bundled example against a local Sigstore stack,
# `make test` runs every test (unit, then end-to-end against the local stack). CI runs `make test`.
SHELL := /bin/bash
GO ?= go
# sigstore-go v1.4.0 needs Go 1.27; the go command fetches this toolchain from the Go module proxy (checked
# against the checksum database) the first time. A machine starts on its own Go and ignores go.mod's go line
# for that, so every entry point sets it.
export GOTOOLCHAIN := go1.27.3

.PHONY: test unit e2e demo stack-install build bench lint npmjs

test: unit e2e

unit: npmjs
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	WAXSEAL_REQUIRE_NPMJS=1 $(GO) test -race -shuffle=on ./...
	@# A bounded run of the differential fuzzer (waxseal's tarball reader against npm's own), on top of its seeds
	@# above; run it longer by hand with a larger -fuzztime.
	WAXSEAL_REQUIRE_NPMJS=1 $(GO) test -run='^$$' -fuzz='^FuzzDifferential$$' -fuzztime=20s ./internal/npm

# npm itself (10 with node-tar 6, 10, 11 and 12), pinned by test/npmjs/package-lock.json, for the
# differential tests in internal/npm; installed again only when the lockfile changes.
npmjs: test/npmjs/node_modules/.package-lock.json
test/npmjs/node_modules/.package-lock.json: test/npmjs/package.json test/npmjs/package-lock.json
	npm ci --prefix test/npmjs --ignore-scripts --no-audit --no-fund

stack-install:
	test/stack/install.sh

# The e2e tests (build tag e2e) run inside a private network namespace with the whole stack on its loopback,
# where there is no network: modules are downloaded first.
E2E_PKGS = $(shell grep -rl --include='*_test.go' '^//go:build e2e' . | xargs -n1 dirname | sort -u)
e2e: stack-install
	$(GO) mod download
	test/stack/run.sh $(GO) test -tags e2e -race -count=1 -timeout 20m -run 'E2E|^TestStack' $(E2E_PKGS)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o .cache/bin/waxseal ./cmd/waxseal

# The demo builds only what it runs: waxseal, its npm registry and TUF helper, the stack's servers and one npm.
demo: build
	$(GO) build -o .cache/bin/npmdemo ./test/stack/npmdemo
	test/stack/install.sh --demo
	$(GO) mod download
	test/stack/run.sh scripts/demo.sh

bench: build stack-install
	bench/run.sh
