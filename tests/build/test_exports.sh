#!/bin/sh
# test_exports.sh - libgctune.so exports only the gc_ and gct_ prefixes,
# and libgctune-preload.so exactly the functions it interposes (the malloc
# and exec families, mmap, the Boehm functions): nothing of its private
# SQLite, libgc or profiler may shadow the program's own.
#
# The shared library is linked with -export-symbols-regex '^(gc|gct)_'
# (Makefile.am); internal functions use gci_ and file-local ones are static.
# Fails if any other defined dynamic symbol is exported, apart from the
# linker's own (_init, _fini, _edata, _end, __bss_start), or if gc_malloc is
# missing.  Lists, without failing, functions declared in gc.h that are not
# exported.
#
# Environment (set by Makefile.am): top_builddir, top_srcdir, NM.

set -eu

: "${top_builddir:=.}"
: "${top_srcdir:=$top_builddir}"
nm_cmd=${NM:-nm}

lib="$top_builddir/.libs/libgctune.so"
if [ ! -e "$lib" ]; then
    echo "SKIP: $lib does not exist (configured with --disable-shared?)"
    exit 77
fi

syms=$($nm_cmd -D --defined-only "$lib" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' | sort -u)
echo "defined dynamic symbols of $lib:"
echo "$syms" | sed 's/^/  /'

bad=$(echo "$syms" | grep -Ev '^(gc|gct)_' |
      grep -Ev '^(_init|_fini|_edata|_end|__bss_start|_etext|__data_start|__end__)$' || true)
status=0
if [ -n "$bad" ]; then
    echo "FAIL: exported outside the gc_/gct_ prefixes:"
    echo "$bad" | sed 's/^/  /'
    status=1
fi

if ! echo "$syms" | grep -qx 'gc_malloc'; then
    echo "FAIL: gc_malloc is not exported"
    status=1
fi

# Informational: the public API of gc.h that the library does not export yet.
header="$top_srcdir/include/gctune/gc.h"
if [ -f "$header" ]; then
    declared=$(sed -n 's/^[^#(]*[ *]\(gc_[a-z_0-9]*\)(.*/\1/p' "$header" | sort -u)
    missing=""
    for f in $declared; do
        echo "$syms" | grep -qx "$f" || missing="$missing $f"
    done
    if [ -n "$missing" ]; then
        echo "note: declared in gc.h but not exported:$missing"
    fi
fi

# The preload library (backends/preload.mk's -export-symbols-regex).
plib="$top_builddir/.libs/libgctune-preload.so"
if [ -e "$plib" ]; then
    want="GC_free GC_gcollect GC_gcollect_and_unmap GC_get_on_collection_event GC_malloc
GC_malloc_atomic GC_malloc_atomic_ignore_off_page GC_malloc_atomic_uncollectable
GC_malloc_ignore_off_page GC_malloc_uncollectable GC_realloc GC_set_on_collection_event
aligned_alloc calloc execl execle execlp execv execve execvp execvpe fexecve free
free_aligned_sized free_sized malloc malloc_usable_size memalign posix_memalign pvalloc
realloc reallocarray valloc"
    case $(uname -m) in x86_64|aarch64) want="$want mmap mmap64" ;; esac
    want=$(echo $want | tr ' ' '\n' | sort -u)
    have=$($nm_cmd -D --defined-only "$plib" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' |
           grep -Ev '^(_init|_fini|_edata|_end|__bss_start|_etext|__data_start|__end__)$' | sort -u)
    if [ "$have" != "$want" ]; then
        echo "FAIL: $plib exports another set than the interposed functions:"
        echo "$want" >"${TMPDIR:-/tmp}/gctune-exports-want.$$"
        echo "$have" | diff "${TMPDIR:-/tmp}/gctune-exports-want.$$" - | sed -n 's/^[<>]/  &/p'
        rm -f "${TMPDIR:-/tmp}/gctune-exports-want.$$"
        status=1
    else
        echo "$plib: exports the $(echo "$want" | wc -l) interposed functions, nothing else"
    fi
fi

[ $status -eq 0 ] && echo "PASS: exports limited to gc_/gct_ and the preload library's interposed functions"
exit $status
