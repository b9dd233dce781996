/*
 * jobs: -j N worker processes.  The parent reads the input, filters it,
 * hands each record to the worker that owns its host, at most a window
 * ahead, and writes the workers' records through its one reorder and
 * output stage.  A worker runs its own loop, its share of -c and --rate
 * and its hosts' --per-host, and sends records back; at the end, its
 * cookies.  Under -o the parent chooses every file name.  A run stopped
 * early (jobs_stop) has the workers end their records as -j 1 would.
 */
#ifndef GATHER_JOBS_H
#define GATHER_JOBS_H

#include <curl/curl.h>
#include <ev.h>

#include "gather/buf.h"
#include "gather/cli.h"
#include "gather/input.h"
#include "gather/rec.h"

struct files;
struct jobs;
struct jobs_feed;

/* The parent's callback: r came back as line, or (line NULL) was lost. */
typedef void	(*jobs_done_fn)(void *, struct rec *, struct buf *);
/* jobs_end's callback: one worker's cookies, COOKIELIST lines. */
typedef void	(*jobs_cookies_fn)(void *, const struct curl_slist *);
/*
 * A worker's exit status when it ran out of memory: the parent says so,
 * once, and ends the records it held.
 */
#define JOBS_EXIT_NOMEM	4
/* jobs_end's word for running out of memory (-1: a worker died). */
#define JOBS_END_NOMEM	(-2)

/* What worker k of n runs, with its end of the socket: its exit status. */
typedef int	(*jobs_worker_fn)(void *, long, long, int);

long		 jobs_count(const struct opts *);
struct jobs	*jobs_fork(const struct opts *, jobs_worker_fn, void *, char *,
		    size_t);
void		 jobs_attach(struct jobs *, struct ev_loop *, struct files *,
		    jobs_done_fn, void *);
int		 jobs_send(struct jobs *, struct rec *);
void		 jobs_forget(struct jobs *, const struct rec *);
void		 jobs_stop(struct jobs *, enum err_kind, const char *);
int		 jobs_end(struct jobs *, jobs_cookies_fn, void *);
void		 jobs_free(struct jobs *);

/* A worker's side: records from the parent, in place of the input. */
struct jobs_feed *jobs_feed_new(struct ev_loop *, int, input_ready_fn,
		    void *);
enum input_status jobs_feed_next(struct jobs_feed *, struct rec *);
void		 jobs_feed_stop(struct jobs_feed *);
int		 jobs_feed_hup(const struct jobs_feed *);
enum err_kind	 jobs_feed_stopped(const struct jobs_feed *, const char **);
int		 jobs_feed_cookies(struct jobs_feed *, const struct curl_slist *);
void		 jobs_feed_free(struct jobs_feed *);

#endif
