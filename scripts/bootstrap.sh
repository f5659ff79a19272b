#!/bin/bash
# scripts/bootstrap.sh - from a fresh clone to a running example.
#
#   1. installs the missing Debian packages (scripts/deps.sh; sudo if not root)
#   2. autoreconf -fi / ./configure (when needed) / make
#   3. records examples/hello with the heap profiler (GCTUNE_PROFILE) and
#      prints `gctune analyze` of the recording (hello.sqlite)
#
# Arguments go to ./configure.  GCTUNE_NO_INSTALL=1 skips step 1's install.

set -euo pipefail

cd "$(dirname "$0")/.."
echo "==> gctune bootstrap in $(pwd)"

# shellcheck source=scripts/deps.sh
. scripts/deps.sh
# shellcheck source=scripts/build.sh
. scripts/build.sh

gctune_install_deps
gctune_configure "$@"
gctune_make all

echo "==> GCTUNE_PROFILE=hello.sqlite ./examples/hello"
GCTUNE_PROFILE=hello.sqlite ./examples/hello
echo "==> ./gctune analyze hello.sqlite"
./gctune analyze hello.sqlite
echo "==> done.  Next: tests/run-all.sh runs the test suite."
