/*
 * main: the front end.  Parses the command line, wires the modules
 * together around one libev loop, runs it, and turns the outcome into the
 * exit status.  It knows nothing of libcurl's or JSON's details.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ev.h>

#include "gather/app.h"
#include "gather/cli.h"
#include "gather/files.h"
#include "gather/gather.h"
#include "gather/input.h"
#include "gather/loop.h"
#include "gather/out.h"
#include "gather/resume.h"
#include "gather/sched.h"
#include "gather/stats.h"
#include "gather/xfer.h"

int
main(int argc, char **argv)
{
	struct app	a;
	char		err[512];
	int		status = EXIT_SOME_FAILED;

	memset(&a, 0, sizeof(a));
	switch (cli_parse(&a.opts, argc, argv, err, sizeof(err))) {
	case CLI_EXIT_OK:
		cli_free(&a.opts);
		return fflush(stdout) == 0 ? 0 : EXIT_SOME_FAILED;
	case CLI_USAGE:
		fprintf(stderr, "gather: %s\n", err);
		cli_free(&a.opts);
		return EXIT_USAGE;
	case CLI_RUN:
		break;
	}

	/* A closed stdout shows up as EPIPE from write(), not as a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "gather: cannot initialise libcurl\n");
		cli_free(&a.opts);
		return EXIT_SOME_FAILED;
	}
	if ((a.evl = ev_default_loop(EVFLAG_AUTO)) == NULL) {
		fprintf(stderr, "gather: cannot initialise libev\n");
		goto out;
	}
	if (a.opts.resume != NULL &&
	    (a.resume = resume_load(a.opts.resume, err, sizeof(err))) == NULL) {
		fprintf(stderr, "gather: %s\n", err);
		status = EXIT_USAGE;
		goto out;
	}
	if (a.opts.output_dir != NULL &&
	    (a.files = files_new(&a.opts, err, sizeof(err))) == NULL) {
		fprintf(stderr, "gather: %s\n", err);
		status = EXIT_USAGE;
		goto out;
	}
	if ((a.out = out_new(&a.opts, STDOUT_FILENO)) == NULL ||
	    (a.gather = gather_new((size_t)a.opts.window,
	    a.opts.unordered, a.out)) == NULL ||
	    (a.pool = xfer_pool_new(&a.opts, a.files)) == NULL ||
	    (a.sched = sched_new(&a)) == NULL ||
	    (a.loop = loop_new(a.evl, a.opts.concurrency < 32 ? 32 :
	    a.opts.concurrency, sched_done, a.sched)) == NULL) {
		fprintf(stderr, "gather: out of memory\n");
		goto out;
	}
	if ((a.stats = stats_new(a.evl, &a.opts)) == NULL) {
		fprintf(stderr, "gather: out of memory\n");
		goto out;
	}
	/* The total is known only for URL arguments alone. */
	if (a.opts.input == NULL && a.opts.nurls > 0 && a.opts.resume == NULL)
		stats_set_total(a.stats, a.opts.shard_n == 0 ? a.opts.nurls :
		    (a.opts.nurls + (size_t)(a.opts.shard_n - a.opts.shard_k) -
		    1) / (size_t)a.opts.shard_n);
	if ((a.in = input_new(a.evl, &a.opts, sched_input_ready, a.sched, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "gather: %s\n", err);
		status = EXIT_INPUT;
		goto out;
	}

	sched_run(a.sched);
	status = sched_status(a.sched);
	/* A reader that left gets nothing more, not even on stderr. */
	if (status != EXIT_SIGPIPE)
		stats_finish(a.stats);
out:
	sched_free(a.sched);
	stats_free(a.stats);
	loop_free(a.loop);
	xfer_pool_free(a.pool);
	files_free(a.files);
	resume_free(a.resume);
	gather_free(a.gather);
	out_free(a.out);
	input_free(a.in);
	if (a.evl)
		ev_loop_destroy(a.evl);
	curl_global_cleanup();
	cli_free(&a.opts);
	return status;
}
