/*
 * ends: what ends a run early, and the exit status it leaves: SIGINT and
 * SIGTERM, --deadline, a reader of stdout that left, a failing stdout,
 * --fail-fast and a --resume FILE that does not match the input.  It
 * decides that the run stops; the scheduler, told through a callback,
 * ends the records.  It never formats or writes a record.
 */
#ifndef GATHER_ENDS_H
#define GATHER_ENDS_H

#include <ev.h>

#include "gather/cli.h"
#include "gather/err_kind.h"
#include "gather/rec.h"

/*
 * The run stops now: end every record read and unfinished as kind, saying
 * why; with ERR_NONE (the output failed) nothing more can be written and
 * records are only dropped.
 */
typedef void	(*ends_stop_fn)(void *, enum err_kind, const char *);

struct ends;

struct ends	*ends_new(struct ev_loop *, const struct opts *, ends_stop_fn,
		    void *);
void		 ends_start(struct ends *);
void		 ends_stop(struct ends *);
int		 ends_stopped(const struct ends *);
int		 ends_output_dead(const struct ends *);
double		 ends_deadline_at(const struct ends *);
void		 ends_output_failed(struct ends *, int);
int		 ends_failed(struct ends *);
void		 ends_input_changed(struct ends *);
int		 ends_status(const struct ends *);
void		 ends_free(struct ends *);

#endif
