/* backends/exec.c - the exec family in libgctune-preload.so.
 *
 * Owns: execve, execv, execvp, execvpe, execl, execlp, execle and fexecve,
 * interposed so that a recording ends (its database complete and
 * unlocked, gctp_before_exec) before the process becomes another program.
 * The new image inherits LD_PRELOAD and GCTUNE_PROFILE and starts its own
 * recording into the same path (a shell script that execs the real
 * program, such as a pyenv shim, ends up recorded as that program);
 * without this, the old recording's helper would still write the path
 * while the new one replaced it.
 *
 * Invariants: each wrapper calls the next definition (dlsym RTLD_NEXT,
 * found once) with its arguments unchanged and returns what it returns;
 * errno is that of the exec.  If the exec fails, the recording stays
 * stopped (a new one would replace the database just finished).  glibc's
 * own exec calls (posix_spawn, system, popen) run in the child process,
 * where nothing is recording, and are not interposed.
 */
#define _GNU_SOURCE
#include "internal.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

static void *next_fn(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* NULL (and errno ENOSYS) when the C library has no such function. */
#define NEXT(type, name)                                                 \
    static type fn;                                                      \
    if (!fn)                                                             \
        fn = (type)next_fn(name);                                        \
    if (!fn) {                                                           \
        errno = ENOSYS;                                                  \
        return -1;                                                       \
    }                                                                    \
    gctp_before_exec()

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    NEXT(execve_fn, "execve");
    return fn(path, argv, envp);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    NEXT(execve_fn, "execvpe");
    return fn(file, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
    NEXT(execv_fn, "execv");
    return fn(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    NEXT(execv_fn, "execvp");
    return fn(file, argv);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    NEXT(fexecve_fn, "fexecve");
    return fn(fd, argv, envp);
}

/* The execl family: the arguments up to the NULL into an array on the
 * stack, then the execv counterpart (which stops the recording). */
static size_t count_args(const char *arg0, va_list ap)
{
    size_t n = 1;
    if (!arg0)
        return 1;
    va_list c;
    va_copy(c, ap);
    while (va_arg(c, const char *))
        n++;
    va_end(c);
    return n + 1;   /* arg0 ... and the NULL */
}

static void fill_args(char **argv, const char *arg0, va_list ap)
{
    size_t i = 0;
    argv[i] = (char *)arg0;
    if (arg0)
        while ((argv[++i] = va_arg(ap, char *)) != NULL)
            ;
}

/* In a function whose last named parameter is arg0: `ap` started and
 * read past the NULL, `argv` the arguments on the stack. */
#define ARGV_FROM_VA(arg0)                                               \
    va_list ap;                                                          \
    va_start(ap, arg0);                                                  \
    char *argv[count_args(arg0, ap)];                                    \
    fill_args(argv, arg0, ap)

EXPORT int execl(const char *path, const char *arg0, ...)
{
    ARGV_FROM_VA(arg0);
    va_end(ap);
    return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg0, ...)
{
    ARGV_FROM_VA(arg0);
    va_end(ap);
    return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg0, ...)
{
    ARGV_FROM_VA(arg0);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}
