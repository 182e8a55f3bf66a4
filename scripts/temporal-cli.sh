#!/usr/bin/env bash
# Prints the path of a Temporal CLI binary, building it first if needed.
# Order: $TEMPORAL_CLI, a `temporal` on PATH, our cache, else `go install` of the
# pinned version into the cache (outside the repo, reused by later runs).
# The CLI's own download site is unreachable from our machines, the Go module
# proxy is not; v1.6+ cannot be built from the proxy (its cliext module is not
# published there), hence the pin.
set -euo pipefail
VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
CACHE_DIR="${REELFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reelflow}/temporal-${VERSION}"

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
  echo "Building Temporal CLI ${VERSION} into ${CACHE_DIR} (one time; ${estimate})..." >&2
  started=$(date +%s)
  # go install -v names each package it compiles: a count every 100 shows it is moving; anything else (errors) as is.
  GOBIN="$CACHE_DIR/bin" GOFLAGS=-mod=mod go install -v "github.com/temporalio/cli/cmd/temporal@${VERSION}" 2>&1 |
    awk -v t0="$started" '/^[^ #]+$/ { if (++n % 100 == 0) { srand(); printf "  ... %d packages compiled, %d s\n", n, srand() - t0; fflush() } next } { print; fflush() }' >&2
  echo "Temporal CLI built in $(( $(date +%s) - started )) s: $CACHE_DIR/bin/temporal" >&2
fi
echo "$CACHE_DIR/bin/temporal"
