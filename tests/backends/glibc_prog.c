/* tests/backends/glibc_prog.c - the malloc backend's blocks in glibc's own
 * hands (test_preload.sh, case 6).
 *
 * A sampled block carries a header in front of it (backends/malloc.c), so
 * everything that frees, resizes or measures a block must reach the
 * interposed functions: the program's calls, and glibc's own calls on
 * blocks it allocated for the program (getline, open_memstream, asprintf
 * in threads, regcomp/regfree, scandir, glob, getaddrinfo, setlocale,
 * dlopen/dlclose, wordexp, realpath, getcwd, strdup) or on the program's
 * blocks (getline's realloc of the caller's buffer).  Run at
 * GCTUNE_SAMPLE_RATE=1 every block is sampled; at larger rates blocks move
 * between sampled and unsampled in realloc.  Checks on its own: contents
 * survive realloc chains (grow and shrink), calloc zeroes, aligned
 * allocations are aligned, malloc_usable_size covers the request, all of
 * it is writable, and it exceeds the request by no more than glibc's own
 * rounding.  Prints one line that does not depend on the rate or
 * on addresses; exits 1 naming the first failed check.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <glob.h>
#include <locale.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wordexp.h>

#define ROUNDS 8
#define SLACK 48   /* malloc_usable_size - request, at most, below the mmap threshold */
#define MMAP_MIN (128 * 1024)   /* glibc's first mmap threshold */

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s\n", what);
        exit(1);
    }
}

static void *thread_main(void *arg)
{
    long sum = 0;
    for (int i = 0; i < 2000; i++) {
        char *s;
        check(asprintf(&s, "%d-%s", i, (const char *)arg) > 0, "asprintf");
        sum += (long)strlen(s);
        free(s);
    }
    char *r = malloc(32);
    check(r != NULL, "malloc in a thread");
    snprintf(r, 32, "%ld", sum);
    return r;   /* freed by the main thread */
}

/* A realloc chain through sizes from 1 byte to 256 KiB and back, the
 * block's contents checked at every step. */
static void realloc_chain(unsigned seed)
{
    static const size_t sizes[] = { 1, 24, 100, 1000, 5000, 70000, 262144, 3000, 40, 200000, 8 };
    unsigned char *p = NULL;
    size_t have = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        p = realloc(p, n);
        check(p != NULL, "realloc");
        size_t keep = have < n ? have : n;
        for (size_t i = 0; i < keep; i++)
            check(p[i] == (unsigned char)(i * 31 + seed), "contents kept by realloc");
        for (size_t i = 0; i < n; i++)
            p[i] = (unsigned char)(i * 31 + seed);
        check(malloc_usable_size(p) >= n, "malloc_usable_size after realloc");
        have = n;
    }
    p = reallocarray(p, 100, 10);
    check(p != NULL, "reallocarray");
    for (size_t i = 0; i < 8; i++)
        check(p[i] == (unsigned char)(i * 31 + seed), "contents kept by reallocarray");
    check(realloc(p, 0) == NULL, "realloc to 0 frees");
}

static void aligned_blocks(void)
{
    static const size_t aligns[] = { 8, 16, 32, 64, 256, 4096, 65536 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t k = 0; k < sizeof aligns / sizeof aligns[0]; k++) {
        size_t a = aligns[k], n = 100 + 37 * k;
        void *p[4] = { NULL, NULL, NULL, NULL };
        check(posix_memalign(&p[0], a, n) == 0, "posix_memalign");
        p[1] = aligned_alloc(a, n);
        p[2] = memalign(a, n);
        p[3] = k % 2 ? valloc(n) : pvalloc(n);
        for (int i = 0; i < 4; i++) {
            size_t want = i == 3 ? page : a;
            check(p[i] != NULL, "aligned allocation");
            check((uintptr_t)p[i] % want == 0, "alignment");
            size_t u = malloc_usable_size(p[i]), asked = i == 3 && k % 2 == 0 ? page : n;
            check(u >= n, "malloc_usable_size of an aligned block");
            /* glibc gives at most a chunk's rounding and a split's
             * remainder more, unless the block (a sample's: twice the
             * alignment) is mmap'd: a header counted in would show */
            if (2 * want + n < MMAP_MIN)
                check(u <= asked + SLACK, "malloc_usable_size of an aligned block not too large");
            memset(p[i], 0x5a, u);
            free(p[i]);
        }
    }
    for (size_t n = 1; n < 70000; n = n * 3 + 5) {
        void *q = malloc(n);
        check(q != NULL, "malloc");
        size_t u = malloc_usable_size(q);
        check(u >= n && u <= n + SLACK, "malloc_usable_size of a fresh block");
        memset(q, 0xa5, u);
        free(q);
    }
    unsigned char *z = calloc(1000, 17);
    check(z != NULL, "calloc");
    for (size_t i = 0; i < 17000; i++)
        check(z[i] == 0, "calloc zeroes");
    free(z);
}

static long glibc_owned(void)
{
    long acc = 0;
    /* getline reallocs the caller's buffer */
    FILE *f = fopen("/proc/self/maps", "r");
    check(f != NULL, "fopen");
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0)
        acc++;
    free(line);
    fclose(f);
    acc = acc > 0;
    char *buf;
    size_t len;
    FILE *m = open_memstream(&buf, &len);
    check(m != NULL, "open_memstream");
    for (int i = 0; i < 5000; i++)
        fprintf(m, "%d,", i);
    fclose(m);
    acc += (long)len;
    free(buf);
    regex_t re;
    check(regcomp(&re, "^([a-z]+)[[:space:]]+([0-9]+)/(tcp|udp)", REG_EXTENDED) == 0, "regcomp");
    regmatch_t mm[4];
    acc += regexec(&re, "http 80/tcp", 4, mm, 0) == 0;
    regfree(&re);
    struct dirent **names;
    int k = scandir("/", &names, NULL, alphasort);
    check(k > 0, "scandir");
    for (int i = 0; i < k; i++)
        free(names[i]);
    free(names);
    glob_t g;
    if (glob("/proc/self/*", 0, NULL, &g) == 0) {
        acc += g.gl_pathc > 0;
        globfree(&g);
    }
    struct addrinfo *ai;
    if (getaddrinfo("127.0.0.1", "80", NULL, &ai) == 0)
        freeaddrinfo(ai);
    setlocale(LC_ALL, "C.UTF-8");
    setlocale(LC_ALL, "C");
    void *h = dlopen("libm.so.6", RTLD_NOW);
    check(h != NULL, "dlopen");
    acc += dlsym(h, "cos") != NULL;
    dlclose(h);
    wordexp_t we;
    if (wordexp("a b c", &we, 0) == 0) {
        acc += (long)we.we_wordc;
        wordfree(&we);
    }
    char *rp = realpath("/proc/self/..", NULL);
    check(rp != NULL, "realpath");
    free(rp);
    char *cwd = getcwd(NULL, 0);
    check(cwd != NULL, "getcwd");
    free(cwd);
    char *d = strdup("glibc_prog");
    acc += (long)strlen(d);
    free(d);
    return acc;
}

int main(void)
{
    long acc = 0;
    for (int r = 0; r < ROUNDS; r++) {
        realloc_chain((unsigned)r);
        aligned_blocks();
        acc += glibc_owned();
        pthread_t t[3];
        for (int i = 0; i < 3; i++)
            check(pthread_create(&t[i], NULL, thread_main, "x") == 0, "pthread_create");
        for (int i = 0; i < 3; i++) {
            void *rv;
            pthread_join(t[i], &rv);
            check(rv != NULL, "thread result");
            acc += atol(rv);
            free(rv);
        }
    }
    printf("glibc_prog ok %ld\n", acc);
    return 0;
}
