/*
 * main: the front end.  Parses the command line, wires the modules
 * together around one libev loop, runs it, and turns the outcome into the
 * exit status.  It knows nothing of libcurl's or JSON's details.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <ev.h>

#include "gather/app.h"
#include "gather/cli.h"
#include "gather/clock.h"
#include "gather/ends.h"
#include "gather/expect.h"
#include "gather/files.h"
#include "gather/input.h"
#include "gather/jar.h"
#include "gather/jobs.h"
#include "gather/junit.h"
#include "gather/loop.h"
#include "gather/merge.h"
#include "gather/msg.h"
#include "gather/output.h"
#include "gather/record.h"
#include "gather/reorder.h"
#include "gather/resume.h"
#include "gather/revalidate.h"
#include "gather/sched.h"
#include "gather/stats.h"
#include "gather/writer.h"
#include "gather/xfer.h"

/* Descriptors a run needs besides its slots: libev, stdio, input, DNS. */
#define FD_MARGIN	32

/*
 * Put /dev/null on each of descriptors 0, 1 and 2 that is closed, noting
 * which were, so that no file, socket or epoll descriptor of ours lands on
 * one and is taken for stdin, stdout or stderr.
 */
static int
main_std_fds(int closed[3])
{
	int fd, nfd;

	for (fd = 0; fd <= 2; fd++) {
		closed[fd] = fcntl(fd, F_GETFD) == -1 && errno == EBADF;
		if (!closed[fd])
			continue;
		/* The lowest free descriptor is this one: 0..fd-1 are open. */
		if ((nfd = open("/dev/null", O_RDWR)) != fd) {
			if (nfd != -1)
				close(nfd);
			return -1;
		}
	}
	return 0;
}

/* Whether the run reads its records from stdin. */
static int
main_reads_stdin(const struct opts *o)
{
	size_t i;

	for (i = 0; i < o->ninputs; i++)
		if (strcmp(o->inputs[i], "-") == 0)
			return 1;
	for (i = 0; i < o->nurls; i++)
		if (strcmp(o->urls[i], "-") == 0)
			return 1;
	return o->nurls == 0 && o->ninputs == 0;
}

/*
 * The descriptors -c c needs: a connection per slot (libcurl holds no
 * more, idle ones included: loop.c caps each multi handle), another per
 * slot under -o, each multi handle's own, and a margin for gather's (the
 * standard ones, epoll, the input, the output directory, a resolver).
 */
static unsigned long
main_fds_needed(long c, unsigned long per_slot)
{
	return (unsigned long)c * per_slot + FD_MARGIN + LOOP_FDS_PER_MULTI *
	    loop_multis(c < 32 ? 32 : c);
}

/*
 * Raise the soft limit on open files to the hard one, then check that -c
 * fits; *conn_max gets the descriptors left for connections (0: no
 * limit), which the loop shares out over its multi handles.
 */
static int
main_fd_limit(const struct opts *o, long *conn_max, char *err, size_t errlen)
{
	struct rlimit	rl;
	unsigned long	per_slot = o->output_dir != NULL ? 2 : 1;
	unsigned long	need, have, fits;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		/* An unlimited hard limit may be refused: keep what we have. */
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	*conn_max = 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	need = main_fds_needed(o->concurrency, per_slot);
	have = (unsigned long)rl.rlim_cur;
	if (need <= have) {
		/* All but -o's files and the multi handles' own: connections. */
		*conn_max = (long)(have - need + (unsigned long)o->concurrency);
		return 0;
	}
	/* The largest -c that fits: the estimate, less the multi handles'. */
	fits = have > FD_MARGIN ? (have - FD_MARGIN) / per_slot : 0;
	while (fits > 0 && main_fds_needed((long)fits, per_slot) > have)
		fits--;
	if (fits == 0)
		snprintf(err, errlen, "-c %ld needs about %lu file descriptors "
		    "but only %lu are allowed; raise ulimit -n",
		    o->concurrency, need, have);
	else
		snprintf(err, errlen, "-c %ld needs about %lu file descriptors "
		    "but only %lu are allowed; use -c %lu or raise ulimit -n",
		    o->concurrency, need, have, fits);
	return -1;
}

/* The end of --help or --version: whether stdout took all of it. */
static int
main_printed(int stdout_closed)
{
	/* A reader that is gone gets nothing, not even a complaint. */
	if (stdout_closed)
		return EXIT_SIGPIPE;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return EXIT_ALL_OK;
	if (errno == EPIPE)
		return EXIT_SIGPIPE;
	msg_error("cannot write output: %s",
	    strerror(errno != 0 ? errno : EIO));
	return EXIT_SOME_FAILED;
}

/*
 * Whether the command line in a->opts can run here: -1 to go on, else the
 * exit status (after --help or --version, or a one-line reason).
 */
static int
main_check(struct app *a, const int closed[3], int argc, char **argv)
{
	char err[512];

	switch (cli_parse(&a->opts, argc, argv, err, sizeof(err))) {
	case CLI_EXIT_OK:
		return main_printed(closed[STDOUT_FILENO]);
	case CLI_USAGE:
		return msg_refuse(err, EXIT_USAGE);
	case CLI_RUN:
		break;
	}
	/* Nobody can read what we would write: end as when the reader left. */
	if (closed[STDOUT_FILENO])
		return EXIT_SIGPIPE;
	if (closed[STDIN_FILENO] && main_reads_stdin(&a->opts)) {
		msg_error("standard input is closed");
		return EXIT_INPUT;
	}
	if (main_fd_limit(&a->opts, &a->conn_max, err, sizeof(err)) == -1)
		return msg_refuse(err, EXIT_USAGE);
	return -1;
}

/* Whether the run keeps a cookie store: -b FILE or --cookie-jar. */
static int
main_uses_cookies(const struct opts *o)
{
	return o->ncookie_files > 0 || o->cookie_jar != NULL;
}

/*
 * The output's way, writer first: writer, reorder ring, formatter; then
 * the transfers, the scheduler and the loop that calls it back.  -1 (out
 * of memory) when one could not be made.
 */
static int
main_pipeline(struct app *a)
{
	const struct opts *o = &a->opts;

	if ((a->writer = writer_new(o->format, a->out_fd)) == NULL ||
	    (a->reorder = reorder_new((size_t)o->window, o->unordered,
	    a->writer)) == NULL ||
	    (a->record = record_new(o, a->reorder)) == NULL ||
	    (a->pool = xfer_pool_new(o, a->files)) == NULL ||
	    (a->sched = sched_new(o, a->evl)) == NULL ||
	    (a->loop = loop_new(a->evl, o->concurrency < 32 ? 32 :
	    o->concurrency, a->conn_max, sched_transfer_done, a->sched)) == NULL ||
	    (main_uses_cookies(o) && loop_share_cookies(a->loop,
	    o->cookie_files, o->ncookie_files) == -1) ||
	    (a->ends = ends_new(a->evl, o, sched_halt, a->sched)) == NULL ||
	    (a->stats = stats_new(a->evl, o)) == NULL ||
	    (a->output = output_new(o, a->ends, a->record, a->reorder,
	    a->writer, a->junit)) == NULL)
		return -1;
	return 0;
}

/*
 * Give the progress line its total when the input can be counted up front
 * (--resume skips an unknown number); a person who typed no input and
 * sits at a terminal is told that gather waits for URLs there.
 */
static void
main_total(struct app *a)
{
	const struct opts	*o = &a->opts;
	uint64_t		 n;

	if (stats_progress(a->stats) && o->resume == NULL &&
	    input_total(a->in, &n) == 0)
		stats_set_total(a->stats, n);
	if (o->nurls == 0 && o->ninputs == 0 && !o->quiet &&
	    isatty(STDIN_FILENO))
		msg_note("reading URLs from the terminal, one a "
		    "line; end with Ctrl-D (see gather --help)");
}

/* Make every module of the run; -1 or the exit status when one fails. */
static int
main_open(struct app *a)
{
	char err[512];

	if ((a->evl = ev_default_loop(EVFLAG_AUTO)) == NULL) {
		msg_error("cannot initialise libev");
		return EXIT_SOME_FAILED;
	}
	if ((a->opts.nresumes > 0 && (a->resume = resume_load(a->opts.resumes,
	    a->opts.nresumes, err, sizeof(err))) == NULL) ||
	    (a->opts.nrevalidates > 0 && (a->revalidate = revalidate_load(
	    a->opts.revalidates, a->opts.nrevalidates, err, sizeof(err))) ==
	    NULL) || (a->opts.output_dir != NULL &&
	    (a->files = files_new(&a->opts, err, sizeof(err))) == NULL) ||
	    (a->opts.nexpects > 0 && a->jobs == NULL &&
	    (a->expect = expect_new(a->opts.expects,
	    a->opts.nexpects, err, sizeof(err))) == NULL) ||
	    (a->opts.junit != NULL && (a->junit = junit_open(a->opts.junit,
	    clock_wall(), err, sizeof(err))) == NULL))
		return msg_refuse(err, EXIT_USAGE);
	/* A jar that cannot be written is said now, not after the run. */
	if (a->opts.cookie_jar != NULL && jar_check(a->opts.cookie_jar, err,
	    sizeof(err)) == -1) {
		msg_error("%s", err);
		return EXIT_SOME_FAILED;
	}
	if (main_pipeline(a) == -1)
		return msg_refuse("out of memory", EXIT_SOME_FAILED);
	if ((a->in = input_new(a->evl, &a->opts, sched_input_ready, a->sched,
	    err, sizeof(err))) == NULL)
		return msg_refuse(err, EXIT_INPUT);
	main_total(a);
	sched_attach(a->sched, &(struct sched_parts){ .loop = a->loop,
	    .pool = a->pool, .in = a->in, .ends = a->ends,
	    .record = a->record, .output = a->output,
	    .resume = a->resume, .revalidate = a->revalidate,
	    .stats = a->stats, .expect = a->expect, .jobs = a->jobs });
	if (a->jobs != NULL)
		jobs_attach(a->jobs, a->evl, a->files, sched_remote_done,
		    a->sched);
	return -1;
}

/* jar_changes' callback: a worker's change into the first process's store. */
static void
main_jar_set_cb(void *arg, const char *line)
{
	(void)loop_cookie_set(arg, line);
}

/* The run's cookies as they were at the start, and the store to change. */
struct main_jar {
	const struct curl_slist	*base;
	struct loop		*loop;
	int			 failed;
};

/* jobs_end's callback: one worker's cookies, its changes applied here. */
static void
main_jar_worker_cb(void *arg, const struct curl_slist *list)
{
	struct main_jar *mj = arg;

	if (jar_changes(mj->base, list, main_jar_set_cb, mj->loop) == -1)
		mj->failed = 1;
}

/*
 * -j: make the workers' stores one in this process's, which holds the
 * cookies the run started with (-b FILE) and does no transfer: each
 * worker's changes to them are applied.  -1 when a worker's cookies are
 * lost (it died) or could not be applied.
 */
static int
main_jar_gather(struct app *a)
{
	struct main_jar	mj = { NULL, a->loop, 0 };
	struct curl_slist *base;
	int		ok, rc;

	base = loop_cookie_list(a->loop, &ok);
	mj.base = base;
	rc = jobs_end(a->jobs, main_jar_worker_cb, &mj);
	curl_slist_free_all(base);
	/* jar_changes fails only for want of memory. */
	if (rc == JOBS_END_NOMEM || mj.failed)
		return JOBS_END_NOMEM;
	return ok && rc == 0 ? 0 : -1;
}

/*
 * -j: the workers end what they still run, settle their files and (with
 * --cookie-jar) send their cookies, made one store here; -1 when some
 * cookies are lost.
 */
static int
main_workers_end(struct app *a)
{
	if (a->jobs == NULL)
		return 0;
	if (a->opts.cookie_jar == NULL)
		return jobs_end(a->jobs, NULL, NULL);
	return main_jar_gather(a);
}

/*
 * --cookie-jar: write the store, however the run ended (signals and
 * --deadline included); a jar that cannot be written makes a run that
 * was all ok exit 1.  A reader that left is told nothing.  lost: -j lost
 * a worker's cookies (-1: it died, JOBS_END_NOMEM: no memory for them),
 * which is said; the jar holds the rest.
 */
static int
main_jar(struct app *a, int status, int lost)
{
	struct curl_slist	*list;
	char			 err[512];
	int			 ok;

	if (a->opts.cookie_jar == NULL)
		return status;
	list = loop_cookie_list(a->loop, &ok);
	if (!ok)
		snprintf(err, sizeof(err), "--cookie-jar %s: cannot read the "
		    "cookies", a->opts.cookie_jar);
	if (ok && jar_write(a->opts.cookie_jar, list, err, sizeof(err)) == 0)
		ok = 2;
	curl_slist_free_all(list);
	if (ok == 2 && lost == JOBS_END_NOMEM)
		snprintf(err, sizeof(err), "out of memory");
	else if (ok == 2 && lost)
		snprintf(err, sizeof(err), "--cookie-jar %s: the cookies of a "
		    "worker that died are not in it", a->opts.cookie_jar);
	if ((ok == 2 && !lost) || status == EXIT_SIGPIPE)
		return status;
	(void)msg_refuse(err, EXIT_SOME_FAILED);
	return status == EXIT_ALL_OK ? EXIT_SOME_FAILED : status;
}

/* --junit: the report is finished and renamed, whatever ended the run. */
static void
main_junit(struct app *a, int *status)
{
	char err[512];

	if (a->junit == NULL || junit_finish(a->junit, clock_wall(), err,
	    sizeof(err)) == 0)
		return;
	(void)msg_refuse(err, EXIT_SOME_FAILED);
	if (*status == EXIT_ALL_OK)
		*status = EXIT_SOME_FAILED;
}

static void	main_close(struct app *);

/* -j, --cookie-jar: a worker's cookies to the parent, after its records. */
static int
main_worker_cookies(struct app *a)
{
	struct curl_slist	*list;
	int			 ok, rc;

	list = loop_cookie_list(a->loop, &ok);
	rc = ok ? jobs_feed_cookies(a->feed, list) : -1;
	curl_slist_free_all(list);
	return rc;
}

/*
 * -j: a worker.  Its records come from the parent on fd and go back on
 * it as lines, in completion order; the parent schedules, orders, counts
 * and writes.  The exit status.
 */
static int
main_worker(void *arg, long k, long n, int fd)
{
	struct app	*a = arg;
	struct opts	*o = &a->opts;
	char		 err[512];
	int		 status = EXIT_SOME_FAILED;

	/* Its share of -c and --rate; a host's records all come here. */
	o->concurrency = o->concurrency / n + (k < o->concurrency % n);
	if (o->concurrency < 1)
		o->concurrency = 1;
	o->rate /= (double)n;
	o->unordered = 1;
	o->format = FORMAT_JSONL;
	o->stats = o->progress = o->fail_fast = 0;
	/*
	 * The parent's --deadline ends the run, and it then ends this
	 * worker, which has its cookies to send last (one of its own could
	 * end it first, its cookies taken for records).
	 */
	o->deadline = 0;
	o->shard_n = 0;
	o->resume = NULL;
	o->nresumes = 0;
	a->out_fd = fd;
	/* The parent says it, once, for every process. */
	msg_nomem_hold();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return EXIT_SOME_FAILED;
	if ((a->evl = ev_default_loop(EVFLAG_AUTO)) == NULL)
		goto out;
	if ((o->nrevalidates > 0 && (a->revalidate = revalidate_load(
	    o->revalidates, o->nrevalidates, err, sizeof(err))) == NULL) ||
	    (o->output_dir != NULL && (a->files = files_new(o, err,
	    sizeof(err))) == NULL) ||
	    (o->nexpects > 0 && (a->expect = expect_new(o->expects,
	    o->nexpects, err, sizeof(err))) == NULL)) {
		(void)msg_refuse(err, EXIT_SOME_FAILED);
		goto out;
	}
	if (main_pipeline(a) == -1 || (a->feed = jobs_feed_new(a->evl, fd,
	    sched_input_ready, a->sched)) == NULL) {
		msg_nomem();
		goto out;
	}
	sched_attach(a->sched, &(struct sched_parts){ .loop = a->loop,
	    .pool = a->pool, .ends = a->ends, .record = a->record,
	    .output = a->output, .revalidate = a->revalidate, .stats = a->stats,
	    .expect = a->expect, .feed = a->feed });
	sched_run(a->sched);
	status = sched_status(a->sched);
	if (o->cookie_jar != NULL && main_worker_cookies(a) == -1)
		status = EXIT_SOME_FAILED;
out:
	main_close(a);
	curl_global_cleanup();
	return msg_nomem_said() ? JOBS_EXIT_NOMEM : status;
}

/*
 * Free every module: the scheduler first, since its records still hold
 * transfers, then what fed and counted it, the transfers' pool and files,
 * the earlier outputs' look-ups and the output stage; the input and then
 * the libev loop last, once no watcher is left on it.
 */
static void
main_close(struct app *a)
{
	sched_free(a->sched);
	output_free(a->output);
	junit_free(a->junit);
	expect_free(a->expect);
	jobs_free(a->jobs);
	jobs_feed_free(a->feed);
	stats_free(a->stats);
	ends_free(a->ends);
	loop_free(a->loop);
	xfer_pool_free(a->pool);
	files_free(a->files);
	revalidate_free(a->revalidate);
	resume_free(a->resume);
	record_free(a->record);
	reorder_free(a->reorder);
	writer_free(a->writer);
	input_free(a->in);
	if (a->evl)
		ev_loop_destroy(a->evl);
}

/* --merge: no fetching, only the output's writer and the merge. */
static int
main_merge(const struct opts *o)
{
	struct writer	*w;
	int		 status;

	if ((w = writer_new(o->format, STDOUT_FILENO)) == NULL)
		return msg_refuse("out of memory", EXIT_SOME_FAILED);
	status = merge_run(o, w);
	writer_free(w);
	return status;
}

/* Parse, wire, run, and turn the outcome into the exit status. */
int
main(int argc, char **argv)
{
	struct app	a;
	char		err[512];
	int		status, closed[3], lost;

	if (main_std_fds(closed) == -1)
		return EXIT_SOME_FAILED;
	/* A closed stdout shows up as EPIPE from write(), not as a signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.out_fd = STDOUT_FILENO;
	if ((status = main_check(&a, closed, argc, argv)) != -1) {
		cli_free(&a.opts);
		return status;
	}
	if (a.opts.merge) {
		status = main_merge(&a.opts);
		cli_free(&a.opts);
		return status;
	}
	if (jobs_count(&a.opts) > 1) {
		if ((a.jobs = jobs_fork(&a.opts, main_worker, &a, err,
		    sizeof(err))) == NULL) {
			cli_free(&a.opts);
			return msg_refuse(err, EXIT_SOME_FAILED);
		}
		/*
		 * The workers hold -c, --rate and --per-host; the first
		 * process keeps a window of records out with them.
		 */
		a.opts.concurrency = a.opts.window;
		a.opts.rate = 0;
		a.opts.per_host = 0;
		a.opts.per_host_rate = 0;
		a.opts.adaptive = 0;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		msg_error("cannot initialise libcurl");
		cli_free(&a.opts);
		return EXIT_SOME_FAILED;
	}
	if ((status = main_open(&a)) == -1) {
		sched_run(a.sched);
		if ((status = ends_status(a.ends)) == -1)
			status = sched_status(a.sched);
		lost = main_workers_end(&a);
		status = main_jar(&a, status, lost);
		main_junit(&a, &status);
		/* A reader that left gets nothing more, not even on stderr. */
		if (status != EXIT_SIGPIPE)
			stats_finish(a.stats);
		/* Memory that ran out past the records: said, and exit 1. */
		if (msg_nomem_said() && status == EXIT_ALL_OK)
			status = EXIT_SOME_FAILED;
	}
	main_close(&a);
	curl_global_cleanup();
	cli_free(&a.opts);
	return status;
}
