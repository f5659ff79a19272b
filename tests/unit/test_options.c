/* test_options.c - environment parsing (GOGC, GOMEMLIMIT, GODEBUG,
 * GCTUNE_*) and the gctrace line format.
 *
 * Parsers are tested directly.  What the runtime does with a real
 * environment is tested by re-running this binary as a child ("child MODE")
 * with the variables set, capturing its stderr and stdout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "gc_internal.h"

static const char *self_path;

static void test_options_gogc_values(void **state)
{
    (void)state;
    int v = 7;
    assert_int_equal(gci_parse_gogc("100", &v), 0); assert_int_equal(v, 100);
    assert_int_equal(gci_parse_gogc("0", &v), 0); assert_int_equal(v, 0);
    assert_int_equal(gci_parse_gogc("50000", &v), 0); assert_int_equal(v, 50000);
    assert_int_equal(gci_parse_gogc("off", &v), 0); assert_int_equal(v, -1);
    assert_int_equal(gci_parse_gogc("-1", &v), 0); assert_int_equal(v, -1);
    assert_int_equal(gci_parse_gogc("+20", &v), 0); assert_int_equal(v, 20);
}

static void test_options_gogc_bad(void **state)
{
    (void)state;
    int v = 7;
    const char *bad[] = {"5O", "", "OFF", "1e3", "100%", " 100", "2147483648", "12abc", "-", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(gci_parse_gogc(bad[i], &v), -1);
        assert_int_equal(v, 7);
    }
    assert_int_equal(gci_parse_gogc(NULL, &v), -1);
}

static void test_options_gomemlimit_values(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(gci_parse_memlimit("1024", &v), 0); assert_int_equal(v, 1024);
    assert_int_equal(gci_parse_memlimit("1024B", &v), 0); assert_int_equal(v, 1024);
    assert_int_equal(gci_parse_memlimit("3KiB", &v), 0); assert_int_equal(v, 3072);
    assert_int_equal(gci_parse_memlimit("64MiB", &v), 0); assert_int_equal(v, 64ll << 20);
    assert_int_equal(gci_parse_memlimit("2GiB", &v), 0); assert_int_equal(v, 2ll << 30);
    assert_int_equal(gci_parse_memlimit("1TiB", &v), 0); assert_int_equal(v, 1ll << 40);
    assert_int_equal(gci_parse_memlimit("off", &v), 0); assert_true(v == INT64_MAX);
    assert_int_equal(gci_parse_memlimit("9223372036854775807", &v), 0); assert_true(v == INT64_MAX);
}

static void test_options_gomemlimit_bad_suffix(void **state)
{
    (void)state;
    int64_t v = 5;
    const char *bad[] = {"1KB", "1k", "1 MiB", "-1", "", "MiB", "1.5GiB", "9223372036854775808",
                         "8388608TiB", "99999999999999999999", "1MiBx", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(gci_parse_memlimit(bad[i], &v), -1);
        assert_int_equal(v, 5);
    }
}

static void test_options_godebug_lookup(void **state)
{
    (void)state;
    int v = -5;
    assert_int_equal(gci_godebug_lookup("gctrace=1", "gctrace", &v), 1); assert_int_equal(v, 1);
    assert_int_equal(gci_godebug_lookup("madvdontneed=1,gctrace=2", "gctrace", &v), 1); assert_int_equal(v, 2);
    assert_int_equal(gci_godebug_lookup("gctrace=1,gctrace=0", "gctrace", &v), 1); assert_int_equal(v, 0);
    v = -5;
    assert_int_equal(gci_godebug_lookup("gctracex=1,xgctrace=1", "gctrace", &v), 0); assert_int_equal(v, -5);
    assert_int_equal(gci_godebug_lookup("", "gctrace", &v), 0);
    assert_int_equal(gci_godebug_lookup("gctrace=", "gctrace", &v), -1);
    assert_int_equal(gci_godebug_lookup("gctrace=yes", "gctrace", &v), -1);
    assert_int_equal(gci_godebug_lookup("gccheckmark=1,gctrace=0", "gccheckmark", &v), 1); assert_int_equal(v, 1);
}

/* Runs this binary as "child MODE" with extra environment entries; returns
 * its exit status and fills out/err with its stdout and stderr. */
static int run_child(const char *mode, const char *const *env, char *out, size_t outlen, char *err, size_t errlen)
{
    int po[2], pe[2];
    assert_int_equal(pipe(po), 0);
    assert_int_equal(pipe(pe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]); close(pe[0]);
        unsetenv("GOGC"); unsetenv("GOMEMLIMIT"); unsetenv("GODEBUG");
        unsetenv("GCTUNE_PROCS"); unsetenv("GCTUNE_GCSTRESS");
        for (int i = 0; env[i]; i++)
            putenv((char *)env[i]);
        execl(self_path, self_path, "child", mode, (char *)NULL);
        _exit(127);
    }
    close(po[1]); close(pe[1]);
    size_t no = 0, ne = 0;
    ssize_t r;
    while ((r = read(po[0], out + no, outlen - 1 - no)) > 0) no += (size_t)r;
    while ((r = read(pe[0], err + ne, errlen - 1 - ne)) > 0) ne += (size_t)r;
    out[no] = err[ne] = 0;
    close(po[0]); close(pe[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int count_lines(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static char out[65536], err[65536];

static void test_options_env_bad_gogc_warns_once(void **state)
{
    (void)state;
    const char *env[] = {"GOGC=5O", NULL};
    assert_int_equal(run_child("settings", env, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(count_lines(err, "warning:"), 1);
    assert_non_null(strstr(err, "GOGC=\"5O\""));
    assert_non_null(strstr(err, "using 100"));
    assert_non_null(strstr(out, "gc_percent=100 "));
}

static void test_options_env_good_values(void **state)
{
    (void)state;
    const char *env[] = {"GOGC=off", "GOMEMLIMIT=512MiB", "GCTUNE_PROCS=1", NULL};
    assert_int_equal(run_child("settings", env, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(count_lines(err, "warning:"), 0);
    assert_non_null(strstr(out, "gc_percent=-1 "));
    assert_non_null(strstr(out, "memory_limit=536870912 "));
    assert_non_null(strstr(out, "procs=1 "));
}

static void test_options_env_bad_values_each_warn(void **state)
{
    (void)state;
    const char *env[] = {"GOMEMLIMIT=12KB", "GCTUNE_PROCS=zero", "GCTUNE_GCSTRESS=-3", "GODEBUG=gctrace=on", NULL};
    assert_int_equal(run_child("settings", env, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(count_lines(err, "warning:"), 4);
    assert_non_null(strstr(err, "GOMEMLIMIT=\"12KB\""));
    assert_non_null(strstr(err, "GCTUNE_PROCS=\"zero\""));
    assert_non_null(strstr(err, "GCTUNE_GCSTRESS=\"-3\""));
    assert_non_null(strstr(err, "gctrace"));
    assert_non_null(strstr(out, "gc_percent=100 "));
}

static void test_options_gctrace_format(void **state)
{
    (void)state;
    const char *env[] = {"GODEBUG=gctrace=1", NULL};
    assert_int_equal(run_child("collect", env, out, sizeof out, err, sizeof err), 0);
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^gc [0-9]+ @[0-9]+\\.[0-9]{3}s [0-9]+%: [0-9]+\\.[0-9]+\\+[0-9]+\\.[0-9]+\\+[0-9]+\\.[0-9]+ ms clock, "
                             "[0-9.]+\\+[0-9.]+/[0-9.]+/[0-9.]+\\+[0-9.]+ ms cpu, [0-9]+->[0-9]+->[0-9]+ MB, [0-9]+ MB goal, "
                             "[0-9]+ MB stacks, [0-9]+ MB globals, [0-9]+ P( \\(forced\\))?$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    int lines = 0, forced = 0, num = 0;
    for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n")) {
        if (regexec(&re, line, 0, NULL, 0) != 0)
            fail_msg("not a gctrace line: '%s'", line);
        lines++;
        forced += strstr(line, "(forced)") != NULL;
        int n;
        assert_int_equal(sscanf(line, "gc %d ", &n), 1);
        assert_int_equal(n, ++num);   /* numbered 1, 2, 3, ... */
    }
    regfree(&re);
    assert_true(lines >= 3);
    assert_int_equal(forced, 2);
}

static int child_main(const char *mode)
{
    static gc_stats st;
    void *p = gc_malloc(100);
    (void)p;
    if (strcmp(mode, "collect") == 0) {
        for (int i = 0; i < 100000; i++)
            (void)gc_malloc(200);   /* triggers some cycles */
        gc_collect();
        gc_collect();
    }
    gc_read_stats(&st);
    printf("gc_percent=%d memory_limit=%lld procs=%d \n", st.gc_percent, (long long)st.memory_limit, gci->procs);
    return 0;
}

int main(int argc, char **argv)
{
    self_path = "/proc/self/exe";
    static char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        self_path = exe;
    }
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_gogc_values),
        cmocka_unit_test(test_options_gogc_bad),
        cmocka_unit_test(test_options_gomemlimit_values),
        cmocka_unit_test(test_options_gomemlimit_bad_suffix),
        cmocka_unit_test(test_options_godebug_lookup),
        cmocka_unit_test(test_options_env_bad_gogc_warns_once),
        cmocka_unit_test(test_options_env_good_values),
        cmocka_unit_test(test_options_env_bad_values_each_warn),
        cmocka_unit_test(test_options_gctrace_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
