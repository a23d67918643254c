/* unit_cases: what the unit tests share: running parser cases kept as data
 * files, one cmocka test per case, and the global fixtures. Test code only: it asserts nothing and
 * leaves failing to the caller. */
#ifndef GATHER_UNIT_CASES_H
#define GATHER_UNIT_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Reads a whole file into a malloced, NUL-terminated buffer (the NUL is
 * not counted in *len). Returns NULL when it cannot be read. */
char *unit_slurp(const char *path, size_t *len);

/* Runs fn once for each file dir/NAME.ext, in name order, as a test named
 * NAME in a cmocka group named group; fn's *state is "dir/NAME". Fewer
 * than min cases count as a failure: the test ran from the wrong directory
 * or the cases are gone. Returns the number of failures. */
int unit_run_cases(const char *group, const char *dir, const char *ext,
                   size_t min, CMUnitTestFunction fn, CMFixtureFunction setup,
                   CMFixtureFunction teardown);

/* Group fixtures of the tests that call into fetch/ and parse/: their
 * global initialisation, as main() does it, and its cleanup. */
int unit_global_setup(void **state);
int unit_global_teardown(void **state);

#endif
