/*
 * jobs: -j N.  Workers are forked right after parsing, before any loop or
 * libcurl state exists, each with a socketpair to the parent.  The parent
 * sends a record as one message (its index and request fields); the worker
 * runs it through its own scheduler, transfers and record formatter and
 * writes the record's line back, in completion order.  The parent keeps
 * every record it sent in a table by index until its line comes back, so
 * that a worker that dies loses nothing: its records end as `other`.
 * Sockets are non-blocking on both sides and the parent buffers what a
 * worker has not read yet: neither side ever waits for the other.  Under
 * -o the parent chooses each record's file name before sending it (names
 * are given out in one place), and the line's error is read back for
 * --format tap and --junit.  When the run stops early (a signal,
 * --deadline, --fail-fast) the parent sends each worker a stop message
 * with the kind and message the unfinished records are to end with: the
 * worker ends its transfers with them as -j 1 would, partial responses
 * and all, and sends them back; one that has not sent all back within
 * JOBS_STOP_WAIT seconds is killed and its records end as `other`.  At
 * the end (jobs_end) the parent shuts its side: each worker ends what it
 * still runs, sends its cookies under --cookie-jar, and exits; only then
 * does the parent reap it, killing one that takes longer than
 * JOBS_STOP_WAIT seconds.  This file is the parent's side; a worker's is
 * jobs_feed.c, and what the parent reads back of a line is jobs_read.c's.
 */
#include "gather/jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <curl/curl.h>

#include "gather/clock.h"
#include "gather/earlier.h"
#include "gather/files.h"
#include "gather/msg.h"
#include "gather/text.h"
#include "gather/url.h"

#include "jobs_int.h"

struct worker {
	pid_t		 pid;
	int		 fd;
	int		 alive;
	int		 no;
	int		 killed;	/* it did not stop in time */
	ev_io		 rio, wio;
	ev_child	 cw;		/* its status, should libev reap it */
	struct buf	 out;		/* messages not yet written */
	size_t		 out_off;
	struct buf	 in;		/* bytes of lines not yet whole */
	struct jobs	*j;
	struct curl_slist *cookies;	/* jobs_end: the cookies it sent */
	int		 cookies_end;	/* and the end of them came */
};

/* A record in a worker, by index. */
struct slot {
	struct rec	*r;
	int		 w;
};

struct jobs {
	const struct opts	*o;
	long			 n;
	struct worker		*w;
	struct ev_loop		*evl;
	jobs_done_fn		 done;
	void			*arg;
	struct files		*files;		/* -o: names are chosen here */
	struct slot		*tab;
	size_t			 cap;		/* a power of two */
	CURLU			*cu;
	struct buf		 host;
	struct buf		 line;
	struct buf		 msgbuf;	/* a line's error message */
	int			 end_nomem;	/* jobs_end ran out of memory */
	struct pollfd		*pf;		/* jobs_end's, made at the start */
	char			 msg[256];
	ev_timer		 stop_w;	/* jobs_stop: the workers' time */
};


static void	jobs_stop_cb(struct ev_loop *, ev_timer *, int);

/* The number of workers -j asks for: 0 is one per online CPU. */
long
jobs_count(const struct opts *o)
{
	long n = o->jobs;

	if (n == 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	return n;
}

/* Make fd non-blocking and close-on-exec. */
static int
jobs_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * In worker k + 1, just forked: keep only its end of the socket pair sv,
 * and run fn, which the worker exits with.
 */
static void __attribute__((noreturn))
jobs_child(struct jobs *j, long k, const int sv[2], jobs_worker_fn fn,
    void *arg)
{
	long	i;
	int	nul;

	close(sv[0]);
	for (i = 0; i < k; i++)
		close(j->w[i].fd);
	/* Its records go to the parent: the user's stdout is not its own. */
	if ((nul = open("/dev/null", O_WRONLY)) != -1) {
		dup2(nul, STDOUT_FILENO);
		close(nul);
	}
	/* A worker ends with the parent's loop, not a signal. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	_exit(fn(arg, k, jobs_count(j->o), sv[1]));
}

/* Fork the workers; in a worker, run fn and exit with its status. */
struct jobs *
jobs_fork(const struct opts *o, jobs_worker_fn fn, void *arg, char *err,
    size_t errlen)
{
	struct jobs	*j;
	int		 sv[2];
	long		 k;
	pid_t		 pid;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->w = calloc((size_t)jobs_count(o), sizeof(*j->w))) == NULL ||
	    (j->pf = calloc((size_t)jobs_count(o), sizeof(*j->pf))) == NULL ||
	    (j->cu = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		jobs_free(j);
		return NULL;
	}
	j->o = o;
	for (j->cap = 64; j->cap < (size_t)o->window * 2; j->cap *= 2)
		;
	if ((j->tab = calloc(j->cap, sizeof(*j->tab))) == NULL) {
		snprintf(err, errlen, "out of memory");
		jobs_free(j);
		return NULL;
	}
	fflush(NULL);
	for (k = 0; k < jobs_count(o); k++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
		    (pid = fork()) == -1) {
			snprintf(err, errlen, "-j: cannot start worker %ld: %s",
			    k + 1, strerror(errno));
			jobs_free(j);
			return NULL;
		}
		if (pid == 0)
			jobs_child(j, k, sv, fn, arg);
		close(sv[1]);
		j->w[k].pid = pid;
		j->w[k].fd = sv[0];
		j->w[k].alive = 1;
		j->w[k].no = (int)k + 1;
		j->w[k].j = j;
		j->n++;
		if (jobs_nonblock(sv[0]) == -1) {
			snprintf(err, errlen, "-j: %s", strerror(errno));
			jobs_free(j);
			return NULL;
		}
	}
	return j;
}

/* The table's place for index, or the free place where it would go. */
static size_t
jobs_find(const struct jobs *j, uint64_t index)
{
	size_t i = (size_t)(index * 0x9e3779b97f4a7c15ULL) & (j->cap - 1);

	while (j->tab[i].r != NULL && j->tab[i].r->req.index != index)
		i = (i + 1) & (j->cap - 1);
	return i;
}

/* Take the entry at i out, moving later ones of its run back. */
static void
jobs_unset(struct jobs *j, size_t i)
{
	size_t k = i, home;

	j->tab[i].r = NULL;
	for (;;) {
		k = (k + 1) & (j->cap - 1);
		if (j->tab[k].r == NULL)
			return;
		home = (size_t)(j->tab[k].r->req.index * 0x9e3779b97f4a7c15ULL) &
		    (j->cap - 1);
		/* Move k back to i unless its home lies in (i, k]. */
		if ((i <= k) ? (i < home && home <= k) : (i < home || home <= k))
			continue;
		j->tab[i] = j->tab[k];
		j->tab[k].r = NULL;
		i = k;
	}
}

/* Forget r: it ended in the parent (cancelled) or came back. */
void
jobs_forget(struct jobs *j, const struct rec *r)
{
	size_t i = jobs_find(j, r->req.index);

	if (j->tab[i].r == r)
		jobs_unset(j, i);
}

/* One line from worker w: its record back to the scheduler. */
static void
jobs_line(struct jobs *j, const char *p, size_t n)
{
	const char	*q;
	uint64_t	 index;
	size_t		 i;
	struct rec	*r;

	if (n < 10 || memcmp(p, "{\"index\":", 9) != 0 ||
	    (q = memchr(p + 9, ',', n - 9)) == NULL ||
	    earlier_parse_index(p + 9, (size_t)(q - p - 9), &index) == -1)
		return;
	i = jobs_find(j, index);
	if ((r = j->tab[i].r) == NULL)
		return;		/* ended in the parent meanwhile */
	jobs_unset(j, i);
	jobs_read_rec(r, &j->msgbuf, p, n);
	buf_clear(&j->line);
	if (buf_append(&j->line, p, n) == -1 ||
	    buf_append(&j->line, "\n", 1) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		j->done(j->arg, r, NULL);
		return;
	}
	j->done(j->arg, r, &j->line);
}

/* Stop w's child watcher, which holds no reference on the loop. */
static void
jobs_child_stop(struct ev_loop *evl, struct worker *w)
{
	if (!ev_is_active(&w->cw))
		return;
	ev_ref(evl);
	ev_child_stop(evl, &w->cw);
}

/* libev's default loop reaps every child: w's status is kept in cw. */
static void
jobs_child_cb(struct ev_loop *evl, ev_child *cw, int revents)
{
	(void)revents;
	jobs_child_stop(evl, cw->data);
}

/*
 * Worker w is gone, or (nomem) is stopped because there is no memory to
 * read its records: say so, and end each of its records as other.  Its
 * status is waitpid's, or libev's when libev has reaped it first.
 */
static void
jobs_lost(struct jobs *j, struct worker *w, int nomem)
{
	int	st = 0, got;
	size_t	i;

	if (nomem)
		kill(w->pid, SIGKILL);
	ev_io_stop(j->evl, &w->rio);
	ev_io_stop(j->evl, &w->wio);
	close(w->fd);
	w->fd = -1;
	w->alive = 0;
	if ((got = w->cw.rpid == w->pid) != 0)
		st = w->cw.rstatus;
	else
		got = waitpid(w->pid, &st, 0) == w->pid;
	jobs_child_stop(j->evl, w);
	if (w->killed)
		snprintf(j->msg, sizeof(j->msg), "-j: worker %d (pid %ld) "
		    "died: killed, as it did not stop within %d s", w->no,
		    (long)w->pid, JOBS_STOP_WAIT);
	else if (nomem)
		snprintf(j->msg, sizeof(j->msg), "-j: out of memory for the "
		    "records of worker %d (pid %ld)", w->no, (long)w->pid);
	else if (!got)
		snprintf(j->msg, sizeof(j->msg), "-j: worker %d (pid %ld) "
		    "died", w->no, (long)w->pid);
	else if (WIFSIGNALED(st))
		snprintf(j->msg, sizeof(j->msg), "-j: worker %d (pid %ld) "
		    "died: killed by signal %d", w->no, (long)w->pid,
		    WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == JOBS_EXIT_NOMEM)
		snprintf(j->msg, sizeof(j->msg), "-j: worker %d (pid %ld) "
		    "ran out of memory", w->no, (long)w->pid);
	else
		snprintf(j->msg, sizeof(j->msg), "-j: worker %d (pid %ld) "
		    "died: exit status %d", w->no, (long)w->pid,
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	w->pid = -1;
	/* Out of memory is said once, whichever process ran out. */
	if (nomem || (got && WIFEXITED(st) && WEXITSTATUS(st) ==
	    JOBS_EXIT_NOMEM))
		msg_nomem();
	else
		msg_error("%s", j->msg);
	for (i = 0; i < j->cap; i++) {
		struct rec *r = j->tab[i].r;

		if (r == NULL || j->tab[i].w != w->no - 1)
			continue;
		jobs_unset(j, i);
		rec_fail(r, ERR_OTHER, "%s", j->msg);
		j->done(j->arg, r, NULL);
		i = (size_t)-1;	/* the table moved: look again */
	}
}

/* A worker's socket is readable: take every whole line. */
static void
jobs_read_cb(struct ev_loop *evl, ev_io *io, int revents)
{
	struct worker	*w = io->data;
	struct jobs	*j = w->j;
	ssize_t		 k;
	const char	*p, *nl;
	size_t		 off;

	(void)evl;
	(void)revents;
	/* Returning would only be called again at once, and again. */
	if (buf_reserve(&w->in, w->in.len + JOBS_READ) == -1) {
		jobs_lost(j, w, 1);
		return;
	}
	k = read(w->fd, w->in.p + w->in.len, JOBS_READ);
	if (k == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		jobs_lost(j, w, 0);
		return;
	}
	w->in.len += (size_t)k;
	for (off = 0; (nl = memchr(w->in.p + off, '\n', w->in.len - off)) !=
	    NULL; off = (size_t)(nl - w->in.p) + 1) {
		p = w->in.p + off;
		jobs_line(j, p, (size_t)(nl - p));
		if (!w->alive)
			return;
	}
	memmove(w->in.p, w->in.p + off, w->in.len - off);
	w->in.len -= off;
}

/* A worker's socket is writable: write what waits for it. */
static void
jobs_write_cb(struct ev_loop *evl, ev_io *io, int revents)
{
	struct worker	*w = io->data;
	ssize_t		 k;

	(void)revents;
	while (w->out_off < w->out.len) {
		k = write(w->fd, w->out.p + w->out_off, w->out.len -
		    w->out_off);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1)
			return;	/* EAGAIN, or the reader's EOF tells more */
		w->out_off += (size_t)k;
	}
	buf_clear(&w->out);
	w->out_off = 0;
	ev_io_stop(evl, io);
}

/*
 * Start watching the workers on evl; done takes their records.  Under -o,
 * files chooses each record's name before it leaves.
 */
void
jobs_attach(struct jobs *j, struct ev_loop *evl, struct files *files,
    jobs_done_fn done, void *arg)
{
	long k;

	j->evl = evl;
	j->files = files;
	j->done = done;
	j->arg = arg;
	ev_timer_init(&j->stop_w, jobs_stop_cb, JOBS_STOP_WAIT, 0.);
	j->stop_w.data = j;
	for (k = 0; k < j->n; k++) {
		ev_io_init(&j->w[k].rio, jobs_read_cb, j->w[k].fd, EV_READ);
		ev_io_init(&j->w[k].wio, jobs_write_cb, j->w[k].fd, EV_WRITE);
		j->w[k].rio.data = j->w[k].wio.data = &j->w[k];
		ev_io_start(evl, &j->w[k].rio);
		/* The run ends when the records do, not when the workers do. */
		ev_child_init(&j->w[k].cw, jobs_child_cb, j->w[k].pid, 0);
		j->w[k].cw.data = &j->w[k];
		ev_child_start(evl, &j->w[k].cw);
		ev_unref(evl);
	}
}

/* The worker of r's host: a hash of host:port, over the live workers. */
static int
jobs_pick(struct jobs *j, const struct rec *r)
{
	uint64_t	h = 0;
	long		k, live = 0, pick;

	if (url_host_key(j->cu, r->req.url.p, &j->host) == 0)
		h = text_hash(j->host.p, j->host.len, 0);
	else
		h = r->req.index;
	for (k = 0; k < j->n; k++)
		live += j->w[k].alive;
	if (live == 0)
		return -1;
	pick = (long)(h % (uint64_t)live);
	for (k = 0; k < j->n; k++)
		if (j->w[k].alive && pick-- == 0)
			return (int)k;
	return -1;
}

/* Queue b's bytes for the wire. */
static int
jobs_put(struct buf *out, const void *p, size_t n)
{
	return buf_append(out, p, n);
}

/* Send r to the worker of its host; -1 (reason in r) when none can take it. */
int
jobs_send(struct jobs *j, struct rec *r)
{
	const struct buf	*b[JOBS_BUFS] = { &r->req.url, &r->req.method,
				    &r->req.headers, &r->req.body, &r->req.user,
				    &r->req.bearer, &r->req.id, &r->save.file };
	struct wire		 m;
	struct worker		*w;
	int			 k, i;
	size_t			 at, start;
	char			 err[512];

	if ((k = jobs_pick(j, r)) == -1) {
		rec_fail(r, ERR_OTHER, "%s", j->msg);
		return -1;
	}
	/* Where its first attempt would choose it, without -j. */
	if (j->files != NULL && r->save.claimed == CLAIM_NONE &&
	    files_claim(j->files, r, err, sizeof(err)) == -1) {
		rec_fail(r, rec_io_kind(err), "%s", err);
		return -1;
	}
	w = &j->w[k];
	memset(&m, 0, sizeof(m));
	m.index = r->req.index;
	m.has_body = r->req.has_body;
	m.body_json = r->req.body_json;
	m.has_id = r->req.has_id;
	m.claimed = (int32_t)r->save.claimed;
	m.timeout = r->req.timeout;
	m.nheaders = (uint32_t)r->req.nheaders;
	memcpy(m.sha256, r->req.sha256, sizeof(m.sha256));
	m.len = sizeof(m);
	for (i = 0; i < JOBS_BUFS; i++) {
		m.n[i] = (uint32_t)b[i]->len;
		m.len += m.n[i];
	}
	start = w->out.len;
	if (jobs_put(&w->out, &m, sizeof(m)) == -1)
		goto nomem;
	for (i = 0; i < JOBS_BUFS; i++)
		if (b[i]->len > 0 && jobs_put(&w->out, b[i]->p, b[i]->len) ==
		    -1)
			goto nomem;
	at = jobs_find(j, r->req.index);
	j->tab[at].r = r;
	j->tab[at].w = k;
	if (!ev_is_active(&w->wio))
		ev_io_start(j->evl, &w->wio);
	return 0;
nomem:
	w->out.len = start;
	rec_fail(r, ERR_OTHER, "out of memory");
	return -1;
}

/*
 * The workers had JOBS_STOP_WAIT seconds to end their records: kill each
 * that still holds one, whose records end as other.
 */
static void
jobs_stop_cb(struct ev_loop *evl, ev_timer *t, int revents)
{
	struct jobs	*j = t->data;
	size_t		 i;
	long		 k;

	(void)evl;
	(void)revents;
	for (i = 0; i < j->cap; i++)
		if (j->tab[i].r != NULL && j->w[j->tab[i].w].alive)
			j->w[j->tab[i].w].killed = 1;
	for (k = 0; k < j->n; k++)
		if (j->w[k].alive && j->w[k].killed) {
			kill(j->w[k].pid, SIGKILL);
			jobs_lost(j, &j->w[k], 0);
		}
}

/*
 * The run stops early: tell each worker to end what it holds as kind,
 * saying why, as -j 1 ends its transfers, and send the records back; the
 * ones a worker still holds JOBS_STOP_WAIT seconds on end as other.
 */
void
jobs_stop(struct jobs *j, enum err_kind kind, const char *why)
{
	struct wire	m;
	long		k;

	memset(&m, 0, sizeof(m));
	m.stop = (int32_t)kind;
	m.n[0] = (uint32_t)strlen(why);
	m.len = (uint32_t)sizeof(m) + m.n[0];
	for (k = 0; k < j->n; k++) {
		struct worker *w = &j->w[k];

		if (!w->alive)
			continue;
		if (jobs_put(&w->out, &m, sizeof(m)) == -1 ||
		    jobs_put(&w->out, why, m.n[0]) == -1) {
			/* Out of memory: it cannot be told, so it is lost. */
			kill(w->pid, SIGKILL);
			jobs_lost(j, w, 0);
			continue;
		}
		if (!ev_is_active(&w->wio))
			ev_io_start(j->evl, &w->wio);
	}
	if (!ev_is_active(&j->stop_w))
		ev_timer_start(j->evl, &j->stop_w);
}

/*
 * One line worker w sent after the run: one of its cookies, or the end of
 * them; a record's line is one the run no longer waits for.
 */
static void
jobs_end_line(struct jobs *j, struct worker *w, const char *p, size_t n)
{
	struct curl_slist *c;

	if (n == 1 && p[0] == JOBS_COOKIES_END[0]) {
		if (w->cookies_end == 0)
			w->cookies_end = 1;
		return;
	}
	if (n == 0 || p[0] != JOBS_COOKIE[0] || w->cookies_end != 0)
		return;
	buf_clear(&j->line);
	if (buf_append(&j->line, p + 1, n - 1) == -1 ||
	    buf_append(&j->line, "", 1) == -1 ||
	    (c = curl_slist_append(w->cookies, j->line.p)) == NULL) {
		w->cookies_end = -1;	/* out of memory: the list is not whole */
		j->end_nomem = 1;
		return;
	}
	w->cookies = c;
}

/* Read what w sent after the run; 0 at its end, 1 while more may come. */
static int
jobs_end_read(struct jobs *j, struct worker *w)
{
	const char	*nl;
	size_t		 off;
	ssize_t		 k;

	if (buf_reserve(&w->in, w->in.len + JOBS_READ) == -1) {
		j->end_nomem = 1;
		return 0;
	}
	k = read(w->fd, w->in.p + w->in.len, JOBS_READ);
	if (k == -1 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (k <= 0)
		return 0;
	w->in.len += (size_t)k;
	for (off = 0; (nl = memchr(w->in.p + off, '\n', w->in.len - off)) !=
	    NULL; off = (size_t)(nl - w->in.p) + 1)
		jobs_end_line(j, w, w->in.p + off,
		    (size_t)(nl - (w->in.p + off)));
	memmove(w->in.p, w->in.p + off, w->in.len - off);
	w->in.len -= off;
	return 1;
}

/* w has said all: close its socket and reap it. */
static void
jobs_end_close(struct jobs *j, struct worker *w)
{
	close(w->fd);
	w->fd = -1;
	w->alive = 0;
	if (j->evl != NULL)
		jobs_child_stop(j->evl, w);
	if (w->pid > 0 && w->cw.rpid != w->pid)
		waitpid(w->pid, NULL, 0);
	w->pid = -1;
}

/*
 * The end of the run: tell each worker that nothing more comes (it ends
 * what it still runs, as the records are over here, settling its files
 * as -j 1 would, and under --cookie-jar sends its cookies), and wait for
 * each to exit.  With fn (--cookie-jar), give it each worker's cookies;
 * -1 when a worker's did not all come (it died), JOBS_END_NOMEM when
 * memory ran out for them.
 */
int
jobs_end(struct jobs *j, jobs_cookies_fn fn, void *arg)
{
	struct pollfd	*pf = j->pf;
	long		 k, open = 0;
	int		 rc = 0, ms, killed = 0;
	double		 until = clock_mono() + JOBS_STOP_WAIT, left;

	if (j->evl != NULL)
		ev_timer_stop(j->evl, &j->stop_w);
	for (k = 0; k < j->n; k++) {
		struct worker *w = &j->w[k];

		pf[k].fd = -1;
		if (j->evl != NULL) {
			ev_io_stop(j->evl, &w->rio);
			ev_io_stop(j->evl, &w->wio);
		}
		if (!w->alive || shutdown(w->fd, SHUT_WR) == -1)
			continue;
		buf_clear(&w->in);
		pf[k].fd = w->fd;
		pf[k].events = POLLIN;
		open++;
	}
	while (open > 0) {
		left = until - clock_mono();
		ms = killed ? -1 : left > 0 ? (int)(left * 1000) + 1 : 0;
		if ((k = poll(pf, (nfds_t)j->n, ms)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* Time is up: a worker still there is killed, its cookies lost. */
		if (k == 0) {
			for (k = 0; k < j->n; k++)
				if (pf[k].fd != -1 && j->w[k].pid > 0)
					kill(j->w[k].pid, SIGKILL);
			killed = 1;
			continue;
		}
		for (k = 0; k < j->n; k++)
			if (pf[k].fd != -1 && pf[k].revents != 0 &&
			    jobs_end_read(j, &j->w[k]) == 0) {
				jobs_end_close(j, &j->w[k]);
				pf[k].fd = -1;
				open--;
			}
	}
	for (k = 0; k < j->n; k++) {
		if (fn != NULL && j->w[k].cookies_end == 1)
			fn(arg, j->w[k].cookies);
		else if (fn != NULL)
			rc = -1;
		curl_slist_free_all(j->w[k].cookies);
		j->w[k].cookies = NULL;
	}
	return rc == -1 && j->end_nomem ? JOBS_END_NOMEM : rc;
}

/* Stop the workers (they hold nothing the output needs) and free all. */
void
jobs_free(struct jobs *j)
{
	long k;

	if (j == NULL)
		return;
	for (k = 0; j->w != NULL && k < j->n; k++) {
		if (j->evl != NULL) {
			ev_timer_stop(j->evl, &j->stop_w);
			ev_io_stop(j->evl, &j->w[k].rio);
			ev_io_stop(j->evl, &j->w[k].wio);
			jobs_child_stop(j->evl, &j->w[k]);
		}
		if (j->w[k].fd != -1)
			close(j->w[k].fd);
		if (j->w[k].pid > 0) {
			kill(j->w[k].pid, SIGKILL);
			waitpid(j->w[k].pid, NULL, 0);
		}
		buf_free(&j->w[k].in);
		buf_free(&j->w[k].out);
	}
	free(j->w);
	free(j->pf);
	free(j->tab);
	curl_url_cleanup(j->cu);
	buf_free(&j->host);
	buf_free(&j->line);
	buf_free(&j->msgbuf);
	free(j);
}
