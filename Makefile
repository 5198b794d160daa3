# The two commands a new user needs:
#   go run . serve     run the guestbook (SQLite in ./guestbook.db)
#   make test          run the whole test suite
.PHONY: test deps lint unit rules build run dist image

STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
DIST       ?= dist

# Everything CI checks: formatting, vet, staticcheck, the alert rules' tests,
# the release artifacts (make dist, which deploy/packaging's tests inspect),
# then every test against throw-away MariaDB primaries and replicas, SQLite
# files, network namespaces and a headless Chromium. It first installs what
# is missing (as root), or stops with the command that would.
test: deps
	$(MAKE) lint rules dist unit

# MariaDB, Chromium, promtool, iproute2, systemd-analyze, lintian, rpm,
# podman with runc, and CA certificates, from Debian.
deps:
	@scripts/test-deps

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

# GBTEST_REQUIRE_BROWSER and GBTEST_REQUIRE_TOOLS turn a missing Chromium or
# systemd-analyze into a failure instead of a skip (scripts/with-mariadb does
# the same for MariaDB).
unit:
	GBTEST_DIST=$(abspath $(DIST)) GBTEST_REQUIRE_BROWSER=1 GBTEST_REQUIRE_TOOLS=1 scripts/with-mariadb --replica go test -count=1 ./...

# The alert rules fire when they should and stay quiet when they should not.
rules:
	promtool check config deploy/prometheus/prometheus.yml
	promtool test rules deploy/prometheus/alerts_test.yml

build:
	go build -ldflags "-X github.com/guestbook/guestbook/cmd.version=$(VERSION) -X github.com/guestbook/guestbook/cmd.commitID=$(COMMIT)" -o guestbook .

# The release artifacts, into $(DIST) only: tarballs, .deb and .rpm for
# linux amd64 and arm64, a CycloneDX SBOM and SHA256SUMS (scripts/dist).
dist:
	DIST=$(DIST) scripts/dist

# The container image guestbook:<version>, FROM scratch with podman or
# buildah, offline (scripts/image).
image:
	scripts/image

run:
	go run . serve
