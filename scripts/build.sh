# scripts/build.sh - configure and build the tree in place.  Sourced by
# scripts/bootstrap.sh and tests/run-all.sh, from the top of the source tree.
#
#   gctune_configure   autoreconf -fi if configure is missing or older than
#                      configure.ac / Makefile.am / bench/local.mk;
#                      ./configure ARGS if the tree is not configured;
#                      config.status --recheck (same options as before) if
#                      configure is newer than config.status
#   gctune_make ARGS   make -j$GCTUNE_JOBS ARGS (default: 2 jobs)

# shellcheck shell=bash

gctune_configure() {
    local input
    local regen=no
    if [ ! -x configure ]; then
        regen=yes
    else
        for input in configure.ac Makefile.am bench/local.mk; do
            if [ -e "$input" ] && [ "$input" -nt configure ]; then
                regen=yes
            fi
        done
    fi
    if [ $regen = yes ]; then
        echo "==> autoreconf -fi"
        autoreconf -fi
    fi
    if [ ! -f config.status ]; then
        echo "==> ./configure $*"
        ./configure "$@"
    elif [ configure -nt config.status ]; then
        echo "==> ./config.status --recheck (configure changed; options kept)"
        ./config.status --recheck
        ./config.status
    else
        local opts
        opts=$(sed -n 's/^ac_cs_config="\(.*\)"$/\1/p' config.status)
        echo "==> already configured (options: ${opts:-none}); rm config.status to reconfigure"
    fi
}

gctune_make() {
    echo "==> make -j${GCTUNE_JOBS:-2} $*"
    make -j"${GCTUNE_JOBS:-2}" "$@"
}
