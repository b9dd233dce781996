/*
 * sched_int: the scheduler's state, shared by sched.c (the pump, retries,
 * the end of a run) and sched_admit.c (whether a record may start now).
 * Private to those two files.
 */
#ifndef GATHER_SCHED_INT_H
#define GATHER_SCHED_INT_H

#include <stdint.h>

#include <curl/curl.h>
#include <ev.h>

#include "gather/sched.h"

#include "rlist.h"

struct sched {
	const struct opts	*o;
	struct ev_loop		*evl;
	struct sched_parts	 p;
	struct rec_list		 running;	/* transfers in libcurl: the slots */
	struct rec_list		 waiting;	/* retry timers pending */
	struct rec_list		 due;		/* read or due, waiting for a start */
	struct sched_node	*free_nodes;	/* their records cleared */
	struct hosts		*hosts;		/* --per-host counts */
	CURLU			*cu;		/* --per-host: parses host keys */
	uint64_t		 next_seq;
	uint64_t		 rng;
	double			 rate_gap;	/* --rate: seconds between starts */
	double			 next_start;	/* --rate: earliest next start */
	struct polite		*polite;	/* pauses, host rates, limits */
	int			 polite_on;	/* --per-host-rate, --adaptive */
	double			 pause_end;	/* the latest pause's end */
	double			 host_at;	/* when host_w fires */
	enum err_kind		 cancel;	/* the rest is to end as this */
	const char		*cancel_why;
	int			 input_done;
	int			 hup;		/* -j worker: the parent is done */
	int			 halted;	/* -j worker: the parent stopped */
	int			 input_failed;
	int			 failed;	/* some record was not ok */
	ev_prepare		 flush_w;
	ev_timer		 linger_w;	/* a worker's lines wait */
	ev_timer		 rate_w;
	ev_timer		 host_w;	/* a pause or a host's turn ends */
};
int	sched_admit_rate(struct sched *);
int	sched_admit_host(struct sched *, struct sched_node *);
void	sched_admit_answer(struct sched *, struct sched_node *, int);

#endif
