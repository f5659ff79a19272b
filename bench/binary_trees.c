/* binary_trees.c - the benchmarks-game binary-trees workload (issue "collector").
 *
 * Builds a "stretch" tree of depth max+1, then a long-lived tree of depth max
 * that stays live for the whole run, then for d = 4, 6, .., max builds and
 * checks 2^(max-d+4) short-lived trees of depth d.  Nodes are 16-byte objects
 * holding two pointers.  Single-threaded.
 *
 * Variants (bench_alloc.h): libgc (gc_malloc, never freed), bdwgc (GC_MALLOC,
 * never freed), glibc / jemalloc / mimalloc (each short-lived tree is freed
 * explicitly, recursively, after it is checked).
 *
 * Usage: binary_trees_<variant> [DEPTH]      (default 21)
 * Prints the usual benchmarks-game lines, then:
 *   binary_trees <variant> depth=D wall=Ws cpu=Cs maxrss_kb=K gcs=G
 */
#include "bench_alloc.h"

struct node {
    struct node *left, *right;
};

static struct node *make_node(struct node *l, struct node *r)
{
    struct node *n = ALLOC_SCANNED(sizeof *n);
    if (n == NULL) {
        fprintf(stderr, "binary_trees: out of memory\n");
        exit(1);
    }
    n->left = l;
    n->right = r;
    return n;
}

static struct node *bottom_up_tree(unsigned depth)
{
    if (depth == 0)
        return make_node(NULL, NULL);
    /* Build the children first so each node is written once, fully formed. */
    struct node *l = bottom_up_tree(depth - 1);
    struct node *r = bottom_up_tree(depth - 1);
    return make_node(l, r);
}

static long item_check(const struct node *t)
{
    if (t->left == NULL)
        return 1;
    return 1 + item_check(t->left) + item_check(t->right);
}

static void delete_tree(struct node *t)
{
#if BENCH_IS_GC
    (void)t; /* the collector reclaims it */
#else
    if (t->left != NULL) {
        delete_tree(t->left);
        delete_tree(t->right);
    }
    FREE(t);
#endif
}

int main(int argc, char **argv)
{
    const unsigned min_depth = 4;
    unsigned n = 21;

    BENCH_INIT();
    if (argc > 2) {
        fprintf(stderr, "usage: %s [DEPTH]\n", argv[0]);
        return 2;
    }
    if (argc == 2)
        n = (unsigned)bench_arg(argv[0], "DEPTH", argv[1]);
    if (n > 30) {
        fprintf(stderr, "%s: DEPTH %u is too large (max 30)\n", argv[0], n);
        return 2;
    }
    unsigned max_depth = n < min_depth + 2 ? min_depth + 2 : n;

    double t0 = bench_now(), c0 = bench_cpu();

    struct node *stretch = bottom_up_tree(max_depth + 1);
    printf("stretch tree of depth %u\t check: %ld\n", max_depth + 1, item_check(stretch));
    delete_tree(stretch);
    stretch = NULL;

    struct node *long_lived = bottom_up_tree(max_depth);

    for (unsigned d = min_depth; d <= max_depth; d += 2) {
        long iterations = 1L << (max_depth - d + min_depth);
        long check = 0;
        for (long i = 0; i < iterations; i++) {
            struct node *t = bottom_up_tree(d);
            check += item_check(t);
            delete_tree(t);
        }
        printf("%ld\t trees of depth %u\t check: %ld\n", iterations, d, check);
    }

    printf("long lived tree of depth %u\t check: %ld\n", max_depth, item_check(long_lived));

    double wall = bench_now() - t0, cpu = bench_cpu() - c0;
    printf("binary_trees %s depth=%u wall=%.3fs cpu=%.3fs maxrss_kb=%ld gcs=%llu\n",
           BENCH_NAME, max_depth, wall, cpu, bench_maxrss_kb(),
           (unsigned long long)bench_gc_count());
    return 0;
}
