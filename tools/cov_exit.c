/*
 * cov_exit: linked into the coverage build only (-Wl,--wrap=_exit).  A
 * process that ends with _exit (a -j worker, a second signal) skips the
 * atexit handler through which gcov writes its counts; this writes them
 * first, so that what the workers run is measured too.
 */
#include <unistd.h>

void	__gcov_dump(void);
/* tools/faultinj.c's, when it is preloaded: no fault may hit gcov. */
void	faultinj_off(void) __attribute__((weak));
void	__real__exit(int);
void	__wrap__exit(int);

/* Write the coverage counts, then end the process as _exit does. */
void
__wrap__exit(int status)
{
	if (faultinj_off != NULL)
		faultinj_off();
	__gcov_dump();
	__real__exit(status);
}

/* Before gcov's own destructors (priority 99) write the counts at exit. */
__attribute__((destructor)) static void
cov_exit_faults_off(void)
{
	if (faultinj_off != NULL)
		faultinj_off();
}
