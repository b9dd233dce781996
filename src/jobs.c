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
 * JOBS_STOP_WAIT seconds.
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
#include "gather/json.h"
#include "gather/msg.h"
#include "gather/text.h"
#include "gather/url.h"

/* Read this much from a socket at a time. */
#define JOBS_READ	65536
/* A worker's line that is a cookie (then a Netscape line), and its last. */
#define JOBS_COOKIE	"C"
#define JOBS_COOKIES_END "E"
/* The byte strings of a record on the wire. */
#define JOBS_BUFS	8
/* Seconds a worker told to stop, or to end, has before it is killed. */
#define JOBS_STOP_WAIT	5

/* A record's fixed part on the wire; the byte strings follow it. */
struct wire {
	uint32_t	len;		/* the whole message */
	uint64_t	index;
	int32_t		has_body, body_json, has_id, claimed;
	int32_t		stop;		/* a stop: the kind; n[0] its message */
	double		timeout;
	uint32_t	nheaders;
	uint32_t	n[JOBS_BUFS];	/* url method headers body user bearer id file */
	char		sha256[65];
};

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

struct jobs_feed {
	struct ev_loop		*evl;
	int			 fd;
	ev_io			 rio;
	struct buf		 in;
	size_t			 off;
	size_t			 scan;		/* messages before it have no stop */
	int			 eof;
	int			 hup;		/* the parent is done with us */
	enum err_kind		 stop;		/* the parent stopped the run */
	struct buf		 why;		/* the stop's message */
	input_ready_fn		 ready;
	void			*arg;
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

/* Read the kind named by the JSON string v. */
static enum err_kind
jobs_kind(const struct json_span *v)
{
	int k;

	for (k = ERR_BAD_INPUT; k <= ERR_OTHER; k++) {
		const char *name = err_kind_name((enum err_kind)k);
		size_t n = strlen(name);

		if (v->n == n + 2 && memcmp(v->p + 1, name, n) == 0)
			return (enum err_kind)k;
	}
	return ERR_OTHER;
}

/* A number member into a double; 0 when it is none. */
static double
jobs_num(const struct json_span *v)
{
	char tmp[64];

	if (v->n == 0 || v->n >= sizeof(tmp) || v->p[0] == 'n')
		return 0;
	memcpy(tmp, v->p, v->n);
	tmp[v->n] = '\0';
	return strtod(tmp, NULL);
}

/*
 * The error member v of a record's line into r: its kind and message, so
 * that --format tap and --junit say what the line says.
 */
static void
jobs_read_error(struct jobs *j, struct rec *r, const struct json_span *v)
{
	struct json_span	k, m;
	enum err_kind		kind = ERR_OTHER;
	size_t			pos = 0;

	buf_clear(&j->msgbuf);
	while (json_next(v->p, v->n, &pos, &k, &m) == 0) {
		if (k.n == 6 && memcmp(k.p, "\"kind\"", 6) == 0)
			kind = jobs_kind(&m);
		else if (k.n == 9 && memcmp(k.p, "\"message\"", 9) == 0 &&
		    m.p[0] == '"' && json_unescape(&j->msgbuf, m.p, m.n) == -1)
			buf_clear(&j->msgbuf);
	}
	if (buf_append(&j->msgbuf, "", 1) == -1)
		rec_fail(r, kind, "%s", "");
	else
		rec_fail(r, kind, "%s", j->msgbuf.p);
}

/*
 * What the parent's stats, --fail-fast, --format tap and --junit need of
 * a record's line.
 */
static void
jobs_read_rec(struct jobs *j, struct rec *r, const char *p, size_t n)
{
	struct json_span k, v, k2, v2;
	size_t		 pos = 0, pos2;

	while (json_next(p, n, &pos, &k, &v) == 0) {
		if (k.n == 8 && memcmp(k.p, "\"status\"", 8) == 0)
			r->res.status = (long)jobs_num(&v);
		else if (k.n == 6 && memcmp(k.p, "\"size\"", 6) == 0)
			r->res.size = (uint64_t)jobs_num(&v);
		else if (k.n == 10 && memcmp(k.p, "\"attempts\"", 10) == 0)
			r->attempts = (int)jobs_num(&v);
		else if (k.n == 6 && memcmp(k.p, "\"time\"", 6) == 0 &&
		    v.p[0] == '{') {
			pos2 = 0;
			while (json_next(v.p, v.n, &pos2, &k2, &v2) == 0)
				if (k2.n == 7 && memcmp(k2.p, "\"total\"", 7) == 0)
					r->res.time.total = jobs_num(&v2);
		} else if (k.n == 7 && memcmp(k.p, "\"error\"", 7) == 0 &&
		    v.p[0] == '{')
			jobs_read_error(j, r, &v);
	}
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
	jobs_read_rec(j, r, p, n);
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

/*
 * Look through the whole messages not yet looked at for the parent's
 * stop, which comes after every record it sent: its kind and message.
 */
static void
jobs_feed_scan(struct jobs_feed *f)
{
	struct wire m;

	while (f->stop == ERR_NONE && f->in.len - f->scan >= sizeof(m)) {
		memcpy(&m, f->in.p + f->scan, sizeof(m));
		if (f->in.len - f->scan < m.len)
			return;
		if (m.stop != 0) {
			if (buf_set(&f->why, f->in.p + f->scan + sizeof(m),
			    m.n[0]) == -1 || buf_append(&f->why, "", 1) == -1)
				buf_clear(&f->why);
			f->stop = (enum err_kind)m.stop;
			return;
		}
		f->scan += m.len;
	}
}

/* The worker's socket is readable: take what the parent sent. */
static void
jobs_feed_cb(struct ev_loop *evl, ev_io *io, int revents)
{
	struct jobs_feed	*f = io->data;
	ssize_t			 k;

	(void)revents;
	if (f->off > 0) {
		memmove(f->in.p, f->in.p + f->off, f->in.len - f->off);
		f->in.len -= f->off;
		f->scan -= f->off;
		f->off = 0;
	}
	/* No memory to read more: end with what was read (the parent tells). */
	if (buf_reserve(&f->in, f->in.len + JOBS_READ) == -1) {
		msg_nomem();
		k = 0;
	} else
		/* Not O_NONBLOCK: the records written back on fd may wait. */
		k = recv(f->fd, f->in.p + f->in.len, JOBS_READ, MSG_DONTWAIT);
	if (k == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		f->eof = f->hup = 1;
		ev_io_stop(evl, io);
	} else {
		f->in.len += (size_t)k;
		jobs_feed_scan(f);
	}
	f->ready(f->arg);
}

/* A worker's feed from fd; ready runs when records may be read. */
struct jobs_feed *
jobs_feed_new(struct ev_loop *evl, int fd, input_ready_fn ready, void *arg)
{
	struct jobs_feed *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->evl = evl;
	f->fd = fd;
	f->ready = ready;
	f->arg = arg;
	ev_io_init(&f->rio, jobs_feed_cb, fd, EV_READ);
	f->rio.data = f;
	ev_io_start(evl, &f->rio);
	return f;
}

/* The next record the parent sent, into r. */
enum input_status
jobs_feed_next(struct jobs_feed *f, struct rec *r)
{
	struct buf	*b[JOBS_BUFS] = { &r->req.url, &r->req.method,
			    &r->req.headers, &r->req.body, &r->req.user,
			    &r->req.bearer, &r->req.id, &r->save.file };
	struct wire	 m;
	const char	*p;
	int		 i;

	if (f->in.len - f->off < sizeof(m) ||
	    (memcpy(&m, f->in.p + f->off, sizeof(m)), f->in.len - f->off <
	    m.len) || m.stop != 0)
		return f->eof ? IN_EOF : IN_AGAIN;
	p = f->in.p + f->off + sizeof(m);
	r->req.index = m.index;
	r->req.has_body = m.has_body;
	r->req.body_json = m.body_json;
	r->req.has_id = m.has_id;
	r->save.claimed = (enum claim)m.claimed;
	r->req.timeout = m.timeout;
	r->req.nheaders = m.nheaders;
	memcpy(r->req.sha256, m.sha256, sizeof(r->req.sha256));
	f->off += m.len;
	for (i = 0; i < JOBS_BUFS; i++) {
		if (buf_set(b[i], p, m.n[i]) == -1) {
			/* The record is had, not its fields: it ends here. */
			r->req.has_id = 0;
			rec_fail(r, ERR_OTHER, "out of memory");
			return IN_BAD;
		}
		p += m.n[i];
	}
	return IN_RECORD;
}

/* Read no more. */
void
jobs_feed_stop(struct jobs_feed *f)
{
	if (f != NULL)
		ev_io_stop(f->evl, &f->rio);
	if (f != NULL)
		f->eof = 1;
}

/* Free the feed (its socket belongs to the worker's writer too). */
void
jobs_feed_free(struct jobs_feed *f)
{
	if (f == NULL)
		return;
	ev_io_stop(f->evl, &f->rio);
	buf_free(&f->in);
	buf_free(&f->why);
	free(f);
}

/* Whether the parent closed its side: the run is over for this worker. */
int
jobs_feed_hup(const struct jobs_feed *f)
{
	return f != NULL && f->hup;
}

/*
 * Whether the parent stopped the run: the kind its unfinished records are
 * to end as, and in *why the message; ERR_NONE when it did not.
 */
enum err_kind
jobs_feed_stopped(const struct jobs_feed *f, const char **why)
{
	if (f == NULL || f->stop == ERR_NONE)
		return ERR_NONE;
	*why = f->why.len > 0 ? f->why.p : "cancelled";
	return f->stop;
}

/* Write the n bytes at p on fd, whole; -1 on failure. */
static int
jobs_write_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * A worker's last words under --cookie-jar, after the records it wrote:
 * its cookies, a line each after JOBS_COOKIE, then JOBS_COOKIES_END.
 */
int
jobs_feed_cookies(struct jobs_feed *f, const struct curl_slist *list)
{
	const struct curl_slist *c;

	for (c = list; c != NULL; c = c->next)
		if (jobs_write_all(f->fd, JOBS_COOKIE, 1) == -1 ||
		    jobs_write_all(f->fd, c->data, strlen(c->data)) == -1 ||
		    jobs_write_all(f->fd, "\n", 1) == -1)
			return -1;
	return jobs_write_all(f->fd, JOBS_COOKIES_END "\n", 2);
}
