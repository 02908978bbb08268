# waxseal's two front doors: `make demo` signs the bundled example against a local Sigstore stack,
# `make test` runs every test (unit, then end-to-end against the local stack). CI runs `make test`.
SHELL := /bin/bash
GO ?= go
# sigstore-go v1.4.0 needs Go 1.27; the go command fetches this toolchain from the Go module proxy (checked
# against the checksum database) the first time. A machine starts on its own Go and ignores go.mod's go line
# for that, so every entry point sets it.
export GOTOOLCHAIN := go1.27.3

.PHONY: test unit e2e demo stack-install build image bench lint npmjs packers system-tools

test: system-tools lint unit e2e

# What the tests run that Debian provides, installed once when missing: podman, runc and buildah for the
# container test (TestContainerE2E: the Action's image under the runner's own arguments), zsh and fish for the
# completion tests, GNU time for the benchmarks.
SYSTEM_TOOLS := podman runc buildah zsh fish
system-tools:
	@missing=(); for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null 2>&1 || missing+=($$t); done; \
	[[ -x /usr/bin/time ]] || missing+=(time); \
	if (($${#missing[@]})); then \
		echo "installing $${missing[*]} from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}" >/dev/null; \
	fi

# What GitHub CI's lint job runs (.golangci.yml): golangci-lint, built once with this Go from the module proxy into
# the same cache as the stack's servers.
GOLANGCI_LINT_VERSION := v2.15.0
TOOL_CACHE := $(or $(WAXSEAL_STACK_CACHE),$(HOME)/.cache/waxseal-stack)/bin/golangci-lint@$(GOLANGCI_LINT_VERSION)
lint: $(TOOL_CACHE)/golangci-lint
	$(TOOL_CACHE)/golangci-lint run ./...
	$(TOOL_CACHE)/golangci-lint run --build-tags e2e ./...
$(TOOL_CACHE)/golangci-lint:
	GOBIN=$(TOOL_CACHE) GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

unit: npmjs packers
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	WAXSEAL_REQUIRE_NPMJS=1 WAXSEAL_REQUIRE_PACKERS=1 WAXSEAL_REQUIRE_SHELLS=1 $(GO) test -race -shuffle=on ./...
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

# The Action's image, built with no Docker engine and no registry: the Dockerfile's final stage (distroless
# static-debian12, from this machine's Debian 12 packages, plus the binary .github/scripts/build-release.sh
# builds), as a docker-archive tarball; `podman load -i .cache/image/waxseal.tar` (or docker load) takes it.
image:
	.github/scripts/build-release.sh .cache/bin/waxseal-linux-amd64
	@mkdir -p .cache/image
	$(GO) run ./test/image -binary .cache/bin/waxseal-linux-amd64 -out .cache/image/waxseal.tar

# The demo builds only what it runs: waxseal, its npm registry and TUF helper, the stack's servers and one npm.
demo: build
	$(GO) build -o .cache/bin/npmdemo ./test/stack/npmdemo
	test/stack/install.sh --demo
	$(GO) mod download
	test/stack/run.sh scripts/demo.sh

bench: build stack-install
	bench/run.sh
