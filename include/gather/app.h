/*
 * app: the root of the program's state, held by main, which wires the
 * modules together; each module gets only the handles it uses.  There
 * are no other globals.
 */
#ifndef GATHER_APP_H
#define GATHER_APP_H

#include <ev.h>

#include "gather/cli.h"

struct app {
	struct opts		 opts;
	struct ev_loop		*evl;
	struct loop		*loop;
	struct xfer_pool	*pool;
	struct files		*files;
	struct resume		*resume;
	struct revalidate	*revalidate;
	struct stats		*stats;
	struct input		*in;
	struct ends		*ends;
	struct record		*record;
	struct reorder		*reorder;
	struct writer		*writer;
	struct output		*output;
	struct sched		*sched;
	struct expect		*expect;	/* --expect's programs, or NULL */
	struct junit		*junit;		/* --junit's report, or NULL */
	struct jobs		*jobs;		/* -j: the parent's workers */
	struct jobs_feed	*feed;		/* -j: a worker's records */
	long			 conn_max;	/* descriptors left for connections */
	int			 out_fd;	/* where records go: stdout, or -j's parent */
};

#endif
