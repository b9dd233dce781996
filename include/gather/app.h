/*
 * app: the root of the program's state.  One struct app reaches every
 * callback through its user-data pointer; there are no other globals.
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
	struct stats		*stats;
	struct input		*in;
	struct out		*out;
	struct gather		*gather;
	struct sched		*sched;
};

#endif
