/* tests/backends/helper_prog.c - a malloc program for test_helper.sh, which
 * checks the malloc backend's helper mode (profiler/helper.c).  Modes:
 *   threads            prints "threads N": the threads of this process
 *                      while it records (1: the profiler started none)
 *   dlopen LIB         dlopens LIB, then 2000 x helper_lib_alloc(4096)
 *   exec               allocates at site_before, then execs itself as
 *                      "after" (site_after): the database must hold the
 *                      second image's recording
 *   spawn              forks and execs itself as "child" (which allocates
 *                      and prints "child done") while allocating at
 *                      site_parent: the child must not touch the parent's
 *                      recording
 *   early              as spawn, but forks at once, before its helper
 *                      can have created the database: the child, whose
 *                      recording would start first, must still not
 *                      record (the parent claimed the path first)
 *   kill               allocates at site_killed, then SIGKILLs itself
 *   sigint             ignores SIGINT, sends it to its process group (so
 *                      to the helper too), allocates, exits 0
 * Every mode that ends normally prints "done".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

/* n x malloc(size), all freed at the end (kept live meanwhile). */
static void churn(int n, size_t size)
{
    void **v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i] = malloc(size);
        memset(v[i], i, 16);
    }
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The empty asm keeps churn's call out of tail position, so each site
 * keeps its frame; the counts differ, or identical bodies would be folded
 * into one function. */
#define SITE(name, n) NOINLINE static void name(void) { churn(n, 4096); __asm__ volatile(""); }
SITE(site_before, 2000)
SITE(site_after, 3000)
SITE(site_parent, 2100)
SITE(site_child, 2200)
SITE(site_killed, 2300)
SITE(site_sigint, 2400)

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "threads") == 0) {
        churn(1000, 4096);
        printf("threads %d\n", count_threads());
    } else if (strcmp(mode, "dlopen") == 0 && argc > 2) {
        void *h = dlopen(argv[2], RTLD_NOW);
        void *(*fn)(size_t) = h ? (void *(*)(size_t))dlsym(h, "helper_lib_alloc") : NULL;
        if (!fn) {
            fprintf(stderr, "dlopen %s: %s\n", argv[2], dlerror());
            return 2;
        }
        for (int i = 0; i < 2000; i++)
            free(fn(4096));
    } else if (strcmp(mode, "exec") == 0) {
        site_before();
        fflush(stdout);
        execl("/proc/self/exe", argv[0], "after", (char *)NULL);
        perror("execl");
        return 2;
    } else if (strcmp(mode, "after") == 0) {
        site_after();
    } else if (strcmp(mode, "spawn") == 0 || strcmp(mode, "early") == 0) {
        if (mode[0] == 's')
            site_parent();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            execl("/proc/self/exe", argv[0], "child", (char *)NULL);
            _exit(127);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        site_parent();
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 3;
    } else if (strcmp(mode, "child") == 0) {
        site_child();
        printf("child done\n");
        return 0;
    } else if (strcmp(mode, "kill") == 0) {
        site_killed();
        raise(SIGKILL);
    } else if (strcmp(mode, "sigint") == 0) {
        signal(SIGINT, SIG_IGN);
        kill(0, SIGINT);
        usleep(100000);
        site_sigint();
    } else {
        fprintf(stderr, "usage: helper_prog threads|dlopen LIB|exec|spawn|early|kill|sigint\n");
        return 2;
    }
    printf("done\n");
    return 0;
}
