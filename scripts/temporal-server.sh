#!/usr/bin/env bash
# Prints the paths of a Temporal server binary, the SQL schema tool and the
# PostgreSQL schema files (SERVER=, SQL_TOOL=, SCHEMA_DIR=), building them once
# into a cache outside the repo (like scripts/temporal-cli.sh; the Go module
# proxy is the one source our machines reach). The schema files are copied
# out of the Go module cache so a later `go clean -modcache` loses nothing.
set -euo pipefail
VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
CACHE_DIR="${REELFLOW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reelflow}/temporal-server-${VERSION}"
SERVER="$CACHE_DIR/bin/server"
SQL_TOOL="$CACHE_DIR/bin/sql"
SCHEMA_DIR="$CACHE_DIR/schema/postgresql/v12"

ready() { [ -x "$SERVER" ] && [ -x "$SQL_TOOL" ] && [ -d "$SCHEMA_DIR/temporal/versioned" ] && [ -d "$SCHEMA_DIR/visibility/versioned" ]; }
print() { printf 'SERVER=%s\nSQL_TOOL=%s\nSCHEMA_DIR=%s\n' "$SERVER" "$SQL_TOOL" "$SCHEMA_DIR"; }

if ready; then print; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
No Temporal server binaries in ${CACHE_DIR} and no Go toolchain to build them.
Install Go (https://go.dev/dl/) and re-run, or put the server and temporal-sql-tool
binaries of ${VERSION} at ${SERVER} and ${SQL_TOOL} and the release's
schema/postgresql/v12 directory at ${SCHEMA_DIR}.
MSG
  exit 1
fi
mkdir -p "$CACHE_DIR"
# A lock so two parallel callers do not build twice; the second one says it waits.
exec 9>"$CACHE_DIR/.build.lock"
if ! flock -n 9; then
  echo "Another process is building the Temporal server into ${CACHE_DIR}; waiting for it..." >&2
  flock 9
fi
if ! ready; then
  cores=$(nproc 2>/dev/null || echo 2)
  echo "Building Temporal server ${VERSION} and its SQL tool into ${CACHE_DIR} (one time; about $(( 8 / cores + 2 ))-$(( 16 / cores + 4 )) min on ${cores} cores)..." >&2
  started=$(date +%s)
  # A download can hang for good (seen here with the CLI's go get: idle 17 minutes on one connection to the proxy).
  # What was fetched and compiled stays in Go's caches, so a second try resumes: two tries of 30 minutes each.
  for try in 1 2; do
    # go install -v names each package it compiles: a count every 100 shows it is moving; anything else (errors) as is.
    GOBIN="$CACHE_DIR/bin" GOFLAGS=-mod=mod timeout 1800 go install -v \
      "go.temporal.io/server/cmd/server@${VERSION}" "go.temporal.io/server/cmd/tools/sql@${VERSION}" 2>&1 |
      awk -v t0="$started" '/^[^ #]+$/ { if (++n % 100 == 0) { srand(); printf "  ... %d packages compiled, %d s\n", n, srand() - t0; fflush() } next } { print; fflush() }' >&2 || true
    [ -x "$SERVER" ] && [ -x "$SQL_TOOL" ] && break
    [ "$try" = 1 ] && echo "  go install did not finish (try 1 of 2); trying again" >&2
  done
  [ -x "$SERVER" ] && [ -x "$SQL_TOOL" ] || { echo "go install did not produce $SERVER and $SQL_TOOL; its output is above" >&2; exit 1; }
  module=$(GOFLAGS=-mod=mod go mod download -json "go.temporal.io/server@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  [ -d "$module/schema/postgresql/v12" ] || { echo "no schema/postgresql/v12 in the server module (${module:-not found})" >&2; exit 1; }
  rm -rf "$SCHEMA_DIR" && mkdir -p "$(dirname "$SCHEMA_DIR")"
  cp -R "$module/schema/postgresql/v12" "$SCHEMA_DIR"
  chmod -R u+w "$SCHEMA_DIR"
  echo "Temporal server built in $(( $(date +%s) - started )) s: $CACHE_DIR/bin" >&2
fi
print
