/* tuner/cgroup.c - the memory limit of the process's cgroup
 * (gct_tuner_cgroup_limit, <gctune/tuner.h>).
 *
 * Reads /proc/self/cgroup for the process's cgroup path (v2: "0::/path";
 * v1: the line whose controllers include "memory"), /proc/self/mountinfo for
 * where that hierarchy is mounted (fstype cgroup2, or cgroup with the memory
 * option) and the mount's root, then reads memory.max (v2) or
 * memory.limit_in_bytes (v1) in the process's cgroup directory and in every
 * parent up to the mount point, and returns the lowest limit.  "max", v1's
 * "unlimited" (>= 2^62), a missing or malformed file: no limit at that
 * level.  v1 is used when the memory controller is on a v1 hierarchy
 * (hybrid systems), v2 otherwise.
 *
 * Every path is prefixed with root, so tests read fixture trees
 * (tests/fixtures/cgroup/).  Uses the system malloc only through stdio.
 */
#include <gctune/tuner.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATHMAX 4096

/* Reads a limit file: 0 and *out, or -1 (absent, "max", unlimited, bad). */
static int read_limit(const char *path, int64_t *out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char buf[64];
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\n")] = 0;
    if (!strcmp(buf, "max"))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || end == buf || *end || buf[0] == '-')
        return -1;
    if (v >= (1ull << 62))   /* v1 "unlimited": LLONG_MAX rounded down to a page */
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Unescapes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

static int has_opt(const char *opts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = opts; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

/* Finds the mount of the hierarchy (v2: cgroup2; v1: cgroup with memory):
 * mount point and mount root. */
static int find_mount(const char *root, int v2, char *mnt, size_t mlen, char *mroot, size_t rlen)
{
    char path[PATHMAX];
    snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[4096];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char *fields[6] = { 0 };
        char *save = NULL, *tok = strtok_r(line, " \n", &save);
        int i = 0;
        while (tok && i < 6) {
            fields[i++] = tok;
            if (i < 6)
                tok = strtok_r(NULL, " \n", &save);
        }
        if (i < 6)
            continue;
        char *fstype = NULL, *super = NULL;
        while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
            if (!strcmp(tok, "-")) {
                fstype = strtok_r(NULL, " \n", &save);
                strtok_r(NULL, " \n", &save);   /* source */
                super = strtok_r(NULL, " \n", &save);
                break;
            }
        }
        if (!fstype)
            continue;
        int match = v2 ? !strcmp(fstype, "cgroup2") : (!strcmp(fstype, "cgroup") && super && has_opt(super, "memory"));
        if (!match)
            continue;
        unescape(fields[3]);
        unescape(fields[4]);
        snprintf(mroot, rlen, "%s", fields[3]);
        snprintf(mnt, mlen, "%s", fields[4]);
        found = 0;
    }
    fclose(f);
    return found;
}

/* The cgroup path of the hierarchy from /proc/self/cgroup. */
static int find_cgroup(const char *root, int v2, char *out, size_t len)
{
    char path[PATHMAX];
    snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[4096];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = 0;
        *c2 = 0;
        const char *ctrls = c1 + 1, *cg = c2 + 1;
        if (v2 ? (!strcmp(line, "0") && !*ctrls) : has_opt(ctrls, "memory")) {
            snprintf(out, len, "%s", cg);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

static int limit_in(const char *root, int v2, int64_t *bytes, char *src, size_t srclen)
{
    char cg[PATHMAX], mnt[PATHMAX], mroot[PATHMAX];
    if (find_cgroup(root, v2, cg, sizeof cg) != 0 || find_mount(root, v2, mnt, sizeof mnt, mroot, sizeof mroot) != 0)
        return -1;
    /* the cgroup's path relative to the mount's root */
    const char *rel = cg;
    size_t rl = strlen(mroot);
    if (strcmp(mroot, "/") != 0 && !strncmp(cg, mroot, rl) && (cg[rl] == '/' || cg[rl] == 0))
        rel = cg + rl;
    char relbuf[PATHMAX];
    snprintf(relbuf, sizeof relbuf, "%s", rel);
    /* strip trailing slashes */
    for (size_t l = strlen(relbuf); l > 0 && relbuf[l - 1] == '/'; l--)
        relbuf[l - 1] = 0;
    const char *file = v2 ? "memory.max" : "memory.limit_in_bytes";
    int64_t best = -1;
    char bestdir[PATHMAX] = "";
    for (;;) {
        char path[PATHMAX * 3];
        snprintf(path, sizeof path, "%s%s%s/%s", root, mnt, relbuf, file);
        int64_t v;
        if (read_limit(path, &v) == 0 && (best < 0 || v < best)) {
            best = v;
            snprintf(bestdir, sizeof bestdir, "%s", relbuf[0] ? relbuf : "/");
        }
        char *slash = strrchr(relbuf, '/');
        if (!relbuf[0])
            break;
        if (slash)
            *slash = 0;
        else
            relbuf[0] = 0;
    }
    if (best < 0)
        return -1;
    *bytes = best;
    if (src && srclen)
        snprintf(src, srclen, "cgroup %s %s of %s", v2 ? "v2" : "v1", file, bestdir);
    return 0;
}

int gct_tuner_cgroup_limit(const char *root, int64_t *bytes, char *src, size_t srclen)
{
    if (!root)
        root = "";
    char cg[PATHMAX];
    /* the memory controller on a v1 hierarchy wins (hybrid systems) */
    if (find_cgroup(root, 0, cg, sizeof cg) == 0 && limit_in(root, 0, bytes, src, srclen) == 0)
        return 0;
    return limit_in(root, 1, bytes, src, srclen);
}
