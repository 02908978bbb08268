# waxseal's two front doors: `make demo` signs the bundled example against a local Sigstore stack,
# `make test` runs every test (unit, then end-to-end against the local stack). CI runs `make test`.
SHELL := /bin/bash
GO ?= go
# sigstore-go v1.4.0 needs Go 1.27; the go command fetches this toolchain from the Go module proxy (checked
# against the checksum database) the first time. A machine starts on its own Go and ignores go.mod's go line
# for that, so every entry point sets it.
export GOTOOLCHAIN := go1.27.3

.PHONY: test unit e2e demo stack-install build bench lint npmjs packers

test: unit e2e

unit: npmjs packers
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	WAXSEAL_REQUIRE_NPMJS=1 WAXSEAL_REQUIRE_PACKERS=1 $(GO) test -race -shuffle=on ./...
	@# Bounded runs of the differential fuzzers (waxseal's tarball reader against npm 10, 11 and 12's own), on top
	@# of their seeds above: byte mutation of real and hostile tarballs, then the structure-aware generator of
	@# packer-shaped tarballs. Run them longer by hand with a larger -fuzztime (one at a time, -parallel 1).
	WAXSEAL_REQUIRE_NPMJS=1 $(GO) test -run='^$$' -fuzz='^FuzzDifferential$$' -fuzztime=20s -parallel=1 ./internal/npm
	WAXSEAL_REQUIRE_NPMJS=1 $(GO) test -run='^$$' -fuzz='^FuzzStructuredDifferential$$' -fuzztime=20s -parallel=1 ./internal/npm

# npm itself (10 with node-tar 6, 10, 11 and 12), pinned by test/npmjs/package-lock.json, for the
# differential tests in internal/npm; installed again only when the lockfile changes.
npmjs: test/npmjs/node_modules/.package-lock.json
test/npmjs/node_modules/.package-lock.json: test/npmjs/package.json test/npmjs/package-lock.json
	npm ci --prefix test/npmjs --ignore-scripts --no-audit --no-fund

# yarn 1, yarn 4, pnpm and bun at pinned versions from the npm registry, in the stack cache (outside the
# repository), for the live packer test in internal/npm; kept until removed, as their versions are pinned.
packers:
	test/packers/install.sh >/dev/null

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
