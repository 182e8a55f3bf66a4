#!/usr/bin/env bash
# Prints the path of a Temporal CLI binary, building it first if needed.
# Order: $TEMPORAL_CLI, a `temporal` on PATH, our cache, else `go install` of the
# pinned version into the cache (outside the repo, reused by later runs).
# The CLI's own download site is unreachable from our machines, the Go module
# proxy is not; v1.6+ cannot be built from the proxy (its cliext module is not
# published there), hence the pin.
#
# The dev server keeps its state in SQLite (modernc.org/sqlite). v1.5.1 ships
# v1.34.1, whose interrupt handling breaks under load: a cancelled request
# interrupts another statement, and from then on every read of the shard fails
# with "interrupted (9)" ("shard status unknown"); workflows stop, silently, for
# good (seen here at about 3,000 ideas filling the line). Upstream fixed it by
# moving to v1.44.3 (temporalio/temporal#9198). That version has a failure of
# its own in the in-memory dev server: a request cancelled mid-transaction makes
# database/sql drop the one connection that holds the in-memory database, and
# every table is gone ("no such table", namespace not found; seen here at the
# cancel of 10,000 workflows). Temporal worked around it in its plugin, which
# v1.5.1 does not have, and removed the workaround at v1.51.0, where interrupted
# in-memory connections stay usable (temporalio/temporal#10427). So we build the
# same CLI against v1.51.0: a throw-away module that requires both, where the
# newer SQLite wins.
set -euo pipefail
VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
SQLITE_VERSION="${TEMPORAL_CLI_SQLITE_VERSION:-v1.51.0}"
CACHE_DIR="${REELFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reelflow}/temporal-${VERSION}-sqlite-${SQLITE_VERSION}"

if [ -n "${TEMPORAL_CLI:-}" ]; then
  [ -x "$TEMPORAL_CLI" ] || { echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2; exit 1; }
  echo "$TEMPORAL_CLI"; exit 0
fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$CACHE_DIR/bin/temporal" ]; then echo "$CACHE_DIR/bin/temporal"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
No Temporal CLI found and no Go toolchain to build one.
Either install Go (https://go.dev/dl/) and re-run, set TEMPORAL_CLI=/path/to/temporal,
or install the CLI from https://docs.temporal.io/cli#install and put it on PATH.
MSG
  exit 1
fi
mkdir -p "$CACHE_DIR"
# A lock so two parallel callers do not build twice; the second one says it waits.
exec 9>"$CACHE_DIR/.build.lock"
if ! flock -n 9; then
  echo "Another process is building the Temporal CLI into ${CACHE_DIR}; waiting for it..." >&2
  flock 9
fi
if [ ! -x "$CACHE_DIR/bin/temporal" ]; then
  # The estimate depends on what is already here: module downloads dominate a first build.
  cores=$(nproc 2>/dev/null || echo 2)
  if ls -d "$(go env GOMODCACHE)"/go.temporal.io/server@* >/dev/null 2>&1; then
    estimate="modules already downloaded; compiling takes about $(( 8 / cores + 1 ))-$(( 16 / cores + 2 )) min on ${cores} cores"
  else
    estimate="downloads about 300 MB of Go modules, then compiles: about $(( 8 / cores + 2 ))-$(( 16 / cores + 4 )) min on ${cores} cores"
  fi
  echo "Building Temporal CLI ${VERSION} (SQLite ${SQLITE_VERSION}) into ${CACHE_DIR} (one time; ${estimate})..." >&2
  started=$(date +%s)
  build_dir=$(mktemp -d)
  trap 'rm -rf "$build_dir"' EXIT
  (
    cd "$build_dir"
    go mod init reelflow-temporal-cli >/dev/null 2>&1
    # A download can hang for good (seen here: go get idle for 17 minutes on one connection to the proxy); what
    # it fetched stays in the module cache, so each new try resumes. Three tries of 10 minutes each.
    for try in 1 2 3; do
      if GOFLAGS=-mod=mod timeout 600 go get "github.com/temporalio/cli@${VERSION}" "modernc.org/sqlite@${SQLITE_VERSION}" >get.log 2>&1; then
        break
      fi
      if [ "$try" = 3 ]; then
        cat get.log >&2
        exit 1
      fi
      echo "  go get did not finish (try ${try} of 3: $(tail -1 get.log)); trying again" >&2
    done
    # go build -v names each package it compiles: a count every 100 shows it is moving; anything else (errors) as is.
    GOFLAGS=-mod=mod go build -v -ldflags "-X github.com/temporalio/cli/temporalcli.Version=${VERSION#v}" \
      -o "$CACHE_DIR/bin/temporal" github.com/temporalio/cli/cmd/temporal 2>&1 |
      awk -v t0="$started" '/^[^ #]+$/ { if (++n % 100 == 0) { srand(); printf "  ... %d packages compiled, %d s\n", n, srand() - t0; fflush() } next } { print; fflush() }' >&2
  )
  [ -x "$CACHE_DIR/bin/temporal" ] || { echo "The Temporal CLI build failed (output above)." >&2; exit 1; }
  echo "Temporal CLI built in $(( $(date +%s) - started )) s: $CACHE_DIR/bin/temporal" >&2
fi
echo "$CACHE_DIR/bin/temporal"
