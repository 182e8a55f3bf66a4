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
echo "Building Temporal CLI ${VERSION} into ${CACHE_DIR} (one time, ~2 min)..." >&2
# A lock so two parallel callers do not build twice.
exec 9>"$CACHE_DIR/.build.lock"
flock 9
if [ ! -x "$CACHE_DIR/bin/temporal" ]; then
  GOBIN="$CACHE_DIR/bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@${VERSION}" >&2
fi
echo "$CACHE_DIR/bin/temporal"
