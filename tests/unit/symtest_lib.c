/* symtest_lib.c - a small shared library that test_symbolize's child
 * process dlopens (built as tests/unit/libsymtest.so by profiler/local.mk,
 * at -O0 with -g), so that gctp_sym_new_pid meets a module loaded after
 * it read the target's modules.  Its functions report where they are:
 * an address inside them and the source lines around it.
 */
#include <stdint.h>

#define NOINLINE __attribute__((noinline, noclone))
#define EXPORT __attribute__((visibility("default")))

EXPORT NOINLINE void symtest_leaf(uint64_t *ret);
EXPORT NOINLINE int symtest_call(uint64_t *ret);
EXPORT NOINLINE uint64_t symtest_second(int *first_line, int *last_line);

/* Stores its return address: inside symtest_call. */
NOINLINE void symtest_leaf(uint64_t *ret)
{
    *ret = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* Returns the line of its call to symtest_leaf; *ret: the return address. */
NOINLINE int symtest_call(uint64_t *ret)
{
    int line = __LINE__ + 1;
    symtest_leaf(ret);
    return line;
}

/* An address inside itself; its body spans [*first_line, *last_line]. */
enum { SECOND_FIRST = __LINE__ + 1 };
NOINLINE uint64_t symtest_second(int *first_line, int *last_line)
{
    volatile uint64_t ip;
here:
    ip = (uint64_t)(uintptr_t)&&here;
    *first_line = SECOND_FIRST;
    *last_line = __LINE__ + 2;       /* the closing brace */
    return ip;
}
