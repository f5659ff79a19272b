#!/bin/bash
# scripts/bootstrap.sh - from a fresh clone to a running example.
#
#   1. installs the missing Debian packages (scripts/deps.sh; sudo if not root)
#   2. autoreconf -fi / ./configure (when needed) / make
#   3. records the demo workload (examples/demo: steady phase, allocation
#      spike, live-set step, slow leak) with the heap profiler and the
#      adaptive tuner on (demo.sqlite), prints `gctune analyze` of it and
#      writes the HTML report (demo-report/index.html)
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

echo "==> ./gctune record -o demo.sqlite --tuner adaptive -- ./examples/demo"
GCTUNE_MEMORY=144MiB GCTUNE_MAX_PAUSE=25ms ./gctune record -o demo.sqlite --tuner adaptive -- ./examples/demo
echo "==> ./gctune analyze demo.sqlite"
./gctune analyze demo.sqlite
echo "==> ./gctune report -o demo-report demo.sqlite"
./gctune report -o demo-report demo.sqlite
echo "==> done: open demo-report/index.html.  Next: tests/run-all.sh runs the test suite."
