# The two commands a new user needs:
#   go run . serve     run the guestbook (SQLite in ./guestbook.db)
#   make test          run the whole test suite
.PHONY: test deps lint unit rules build run

STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Everything CI checks: formatting, vet, staticcheck, the alert rules' tests,
# then every test against throw-away MariaDB primaries and replicas, SQLite
# files, network namespaces and a headless Chromium. It first installs what
# is missing (as root), or stops with the command that would.
test: deps
	$(MAKE) lint rules unit

# MariaDB, Chromium, promtool, iproute2 and systemd-analyze, from Debian.
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
	GBTEST_REQUIRE_BROWSER=1 GBTEST_REQUIRE_TOOLS=1 scripts/with-mariadb --replica go test -count=1 ./...

# The alert rules fire when they should and stay quiet when they should not.
rules:
	promtool check config deploy/prometheus/prometheus.yml
	promtool test rules deploy/prometheus/alerts_test.yml

build:
	go build -ldflags "-X github.com/guestbook/guestbook/cmd.version=$(VERSION)" -o guestbook .

run:
	go run . serve
