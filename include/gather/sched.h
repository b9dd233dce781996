/*
 * sched: decides what runs when.  It holds the semaphore (-c), reads a
 * record only when a slot and a place in the reorder window are free,
 * starts its transfer, takes it back when libcurl is done, and hands the
 * finished record to gather.  It also ends the run: on end of input, a
 * closed stdout or a signal, every record read gets its record.
 */
#ifndef GATHER_SCHED_H
#define GATHER_SCHED_H

#include <curl/curl.h>

#include "gather/app.h"

/* Exit statuses, as documented in gather(1). */
enum exit_status {
	EXIT_ALL_OK = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_INPUT = 3,
	EXIT_SIGPIPE = 141
};

struct sched;

struct sched	*sched_new(struct app *);
void		 sched_run(struct sched *);
int		 sched_status(const struct sched *);
void		 sched_done(void *, CURL *, CURLcode);
void		 sched_input_ready(void *);
void		 sched_free(struct sched *);

#endif
