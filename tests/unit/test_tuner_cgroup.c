/* test_tuner_cgroup.c - gct_tuner_cgroup_limit on fixture trees
 * (tests/fixtures/cgroup/<case>/proc/self/{cgroup,mountinfo} and the
 * cgroup files under the mount points they name), and the budget the tuner
 * derives from it (90% of the limit) through gct_tuner_start's cgroup_root.
 *
 * Cases: v2 (limit on the parent, "max" on the leaf), v2_leaf (the lower
 * of leaf and parent), v2_nolimit, v2_ns (cgroup namespace: "0::/"),
 * v2_bad (a malformed file is skipped), v1 (memory controller line among
 * others, an "unlimited" parent), v1_root (mount root = the cgroup),
 * v1_nolimit, none (empty files), and a root that does not exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <gctune/tuner.h>

#ifndef CGROUP_FIXTURES
#define CGROUP_FIXTURES "tests/fixtures/cgroup"
#endif

static int64_t limit_of(const char *name, char *src, size_t len)
{
    char root[1024];
    snprintf(root, sizeof root, "%s/%s", CGROUP_FIXTURES, name);
    int64_t v = -12345;
    if (gct_tuner_cgroup_limit(root, &v, src, len) != 0)
        return -1;
    return v;
}

static void test_v2_parent(void **state)
{
    (void)state;
    char src[200];
    assert_int_equal(limit_of("v2", src, sizeof src), 1073741824);
    assert_non_null(strstr(src, "cgroup v2 memory.max"));
    assert_non_null(strstr(src, "/user.slice"));
    assert_null(strstr(src, "app.scope"));
}

static void test_v2_leaf_lower(void **state)
{
    (void)state;
    char src[200];
    assert_int_equal(limit_of("v2_leaf", src, sizeof src), 268435456);
    assert_non_null(strstr(src, "/a/b"));
}

static void test_v2_nolimit(void **state)
{
    (void)state;
    assert_int_equal(limit_of("v2_nolimit", NULL, 0), -1);
}

static void test_v2_namespace(void **state)
{
    (void)state;
    assert_int_equal(limit_of("v2_ns", NULL, 0), 536870912);
}

static void test_v2_malformed_skipped(void **state)
{
    (void)state;
    assert_int_equal(limit_of("v2_bad", NULL, 0), 100663296);
}

static void test_v1(void **state)
{
    (void)state;
    char src[200];
    assert_int_equal(limit_of("v1", src, sizeof src), 268435456);
    assert_non_null(strstr(src, "cgroup v1 memory.limit_in_bytes"));
    assert_non_null(strstr(src, "/docker/abc"));
}

static void test_v1_mount_root(void **state)
{
    (void)state;
    assert_int_equal(limit_of("v1_root", NULL, 0), 134217728);
}

static void test_v1_nolimit(void **state)
{
    (void)state;
    assert_int_equal(limit_of("v1_nolimit", NULL, 0), -1);
}

static void test_none(void **state)
{
    (void)state;
    assert_int_equal(limit_of("none", NULL, 0), -1);
    assert_int_equal(limit_of("does-not-exist", NULL, 0), -1);
}

/* The tuner takes 90% of the cgroup limit as its budget; an explicit
 * budget wins; a negative one means none. */
static void test_budget_from_cgroup(void **state)
{
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/v2_leaf", CGROUP_FIXTURES);
    gct_tuner_config cfg;
    gct_tuner_config_init(&cfg);
    cfg.policy = "static";
    cfg.cgroup_root = root;
    cfg.interval_ms = 50;
    assert_int_equal(gct_tuner_start(&cfg), 0);
    gct_tuner_stats st;
    gct_tuner_get_stats(&st);
    assert_int_equal(st.memory_budget, (int64_t)(268435456 * 0.9));
    assert_non_null(strstr(st.budget_source, "cgroup v2"));
    gct_tuner_stop();

    cfg.memory_budget = 64 << 20;
    assert_int_equal(gct_tuner_start(&cfg), 0);
    gct_tuner_get_stats(&st);
    assert_int_equal(st.memory_budget, 64 << 20);
    assert_non_null(strstr(st.budget_source, "explicit"));
    gct_tuner_stop();

    cfg.memory_budget = -1;
    assert_int_equal(gct_tuner_start(&cfg), 0);
    gct_tuner_get_stats(&st);
    assert_int_equal(st.memory_budget, 0);
    gct_tuner_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_parent),
        cmocka_unit_test(test_v2_leaf_lower),
        cmocka_unit_test(test_v2_nolimit),
        cmocka_unit_test(test_v2_namespace),
        cmocka_unit_test(test_v2_malformed_skipped),
        cmocka_unit_test(test_v1),
        cmocka_unit_test(test_v1_mount_root),
        cmocka_unit_test(test_v1_nolimit),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_budget_from_cgroup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
