/*
 * cov_exit: linked into the coverage build only (-Wl,--wrap=_exit).  A
 * process that ends with _exit (a -j worker, a second signal) skips the
 * atexit handler through which gcov writes its counts; this writes them
 * first, so that what the workers run is measured too.
 */
#include <unistd.h>

void	__gcov_dump(void);
void	__real__exit(int);
void	__wrap__exit(int);

/* Write the coverage counts, then end the process as _exit does. */
void
__wrap__exit(int status)
{
	__gcov_dump();
	__real__exit(status);
}
