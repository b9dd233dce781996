/*
 * The checks every unit program shares: CHECK counts a condition as passed
 * or failed, naming a failed one with its file and line, and check_report
 * prints the closing "NAME: N passed, N failed" line.  Define CHECK_NAME
 * (the program's name, a string) before including this header.
 *
 * Failures go to stdout: some programs capture stderr while they check.
 */
#ifndef GATHER_TESTS_CHECK_H
#define GATHER_TESTS_CHECK_H

#include <stdio.h>

#ifndef CHECK_NAME
#error "define CHECK_NAME before including check.h"
#endif

static int check_passed, check_failed;

#define CHECK(cond) do {						\
	if (cond)							\
		check_passed++;						\
	else {								\
		check_failed++;						\
		printf("%s: %s:%d: %s\n", CHECK_NAME, __FILE__,		\
		    __LINE__, #cond);					\
		fflush(stdout);						\
	}								\
} while (0)

/* Print the closing line; return the program's exit status. */
static inline int
check_report(void)
{
	printf("%s: %d passed, %d failed\n", CHECK_NAME, check_passed,
	    check_failed);
	return check_failed != 0;
}

#endif
