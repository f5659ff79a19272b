/* pprof_writer.c - writes a known heap profile with reports/pprof.c, for
 * tests/cli/test_pprof_go.sh to read back with `go tool pprof`.
 *
 *   pprof_writer FILE
 *
 * One mapping, four functions, three stacks (leaf first):
 *   alloc_leaf <- make_tree <- main     3 MiB alloc, 1 MiB in use
 *   make_tree <- main                   1 MiB alloc, 512 KiB in use
 *   parse_input <- main                 4 MiB alloc, nothing in use
 * Totals: alloc_space 8 MiB, inuse_space 1.5 MiB; alloc_objects 6000,
 * inuse_objects 1500.  The script relies on exactly these numbers.
 */
#include <stdio.h>
#include "pprof.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pprof_writer FILE\n");
        return 2;
    }
    static const pprof_sample_type types[4] = {
        {"alloc_objects", "count"}, {"alloc_space", "bytes"},
        {"inuse_objects", "count"}, {"inuse_space", "bytes"},
    };
    static const pprof_sample_type period = {"space", "bytes"};
    pprof_builder *b = pprof_new(types, 4, &period, 524288, 1700000000000000000, 1000000000);
    if (!b)
        return 1;
    uint64_t m = pprof_add_mapping(b, 0x400000, 0x480000, 0, "/usr/bin/gctune-demo", "0123abcd");
    uint64_t main_ = pprof_add_location(b, 0x401000, m, "main", "demo.c", 20);
    uint64_t tree = pprof_add_location(b, 0x402000, m, "make_tree", "demo.c", 40);
    uint64_t leaf = pprof_add_location(b, 0x403000, m, "alloc_leaf", "demo.c", 60);
    uint64_t parse = pprof_add_location(b, 0x404000, m, "parse_input", "input.c", 7);
    if (!m || !main_ || !tree || !leaf || !parse)
        return 1;
    const uint64_t s1[] = {leaf, tree, main_}, s2[] = {tree, main_}, s3[] = {parse, main_};
    const int64_t v1[] = {3000, 3 << 20, 1000, 1 << 20};
    const int64_t v2[] = {1000, 1 << 20, 500, 512 << 10};
    const int64_t v3[] = {2000, 4 << 20, 0, 0};
    if (pprof_add_sample(b, s1, 3, v1) < 0 || pprof_add_sample(b, s2, 2, v2) < 0 ||
        pprof_add_sample(b, s3, 2, v3) < 0)
        return 1;
    char err[512];
    int rc = pprof_write(b, argv[1], err, sizeof err);
    pprof_free(b);
    if (rc < 0) {
        fprintf(stderr, "pprof_writer: %s\n", err);
        return 1;
    }
    return 0;
}
