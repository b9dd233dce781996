/*
 * stats: counters of the run, the --progress line and the --stats
 * summary.  The per-record calls only bump counters and one bucket of a
 * fixed log-linear latency histogram: no allocation, no formatting.  A
 * repeating 0.1 s timer redraws the progress line when something changed;
 * the summary is formatted once, at the end (stats_report.c), and the
 * histogram is hist.c's.
 */
#include "gather/stats.h"
#include "gather/stats_def.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gather/clock.h"
#include "gather/msg.h"
#include "gather/url.h"

/* Remember (t, records) for the moving window of the progress rate. */
static void
stats_window_push(struct stats *s, double t)
{
	size_t i = (s->win_head + s->win_len) % RATE_SAMPLES;

	if (s->win_len == RATE_SAMPLES) {
		s->win_head = (s->win_head + 1) % RATE_SAMPLES;
		i = (s->win_head + RATE_SAMPLES - 1) % RATE_SAMPLES;
	} else
		s->win_len++;
	s->win_t[i] = t;
	s->win_n[i] = s->records;
}

/*
 * Records per second over the last five seconds or so (the run so far
 * while it is younger), so the rate and ETA follow a run that speeds up
 * or stalls; -1 before there is anything to measure.
 */
static double
stats_window_rate(const struct stats *s, double now)
{
	double dt;

	if (s->win_len == 0)
		return -1;
	dt = now - s->win_t[s->win_head];
	if (dt < 0.05)
		return -1;
	return (double)(s->records - s->win_n[s->win_head]) / dt;
}

/* v and unit, with two decimals below two, one below one, else none. */
void
stats_fmt_digits(char *p, size_t n, double v, double two, double one,
    const char *unit)
{
	snprintf(p, n, "%.*f%s", v < two ? 2 : v < one ? 1 : 0, v, unit);
}

/* "245/s", "3.5/s": a few significant digits, enough for a glance. */
static void
stats_fmt_rate(char *p, size_t n, double rate)
{
	if (rate < 0)
		snprintf(p, n, "-/s");
	else
		stats_fmt_digits(p, n, rate, 0, 9.95, "/s");
}

/* "0:15", "1:02:03": the form a countdown is read in. */
static void
stats_fmt_eta(char *p, size_t n, double secs)
{
	unsigned long t;

	if (!(secs >= 0) || secs > 99 * 3600.0) {
		snprintf(p, n, "--:--");
		return;
	}
	t = (unsigned long)(secs + 0.5);
	if (t >= 3600)
		snprintf(p, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(p, n, "%lu:%02lu", t / 60, t % 60);
}

/* The terminal's width less one, so the line never wraps; at most 79. */
static size_t
stats_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
	    ws.ws_col - 1 < LINE_MAX_COLS)
		return ws.ws_col - 1u;
	return LINE_MAX_COLS;
}

/*
 * Format the progress line into p (n bytes) with sep between fields:
 *     done 120/500 24%  ok 118  failed 2  in flight 32  61/s  ETA 0:06
 *     done 120  ok 118  failed 2  in flight 32  61/s
 */
static int
stats_fmt_line(const struct stats *s, char *p, size_t n, const char *sep,
    double rate)
{
	char		 done[64], r[32], eta[32];
	unsigned	 pct;

	if (s->has_total) {
		pct = s->total == 0 || s->records >= s->total ? 100 :
		    (unsigned)((double)s->records * 100 / (double)s->total);
		snprintf(done, sizeof(done), "%llu/%llu %u%%",
		    (unsigned long long)s->records,
		    (unsigned long long)s->total, pct);
	} else
		snprintf(done, sizeof(done), "%llu",
		    (unsigned long long)s->records);
	stats_fmt_rate(r, sizeof(r), rate);
	if (s->has_total) {
		if (s->records >= s->total)
			stats_fmt_eta(eta, sizeof(eta), 0);
		else
			stats_fmt_eta(eta, sizeof(eta), rate > 0 ?
			    (double)(s->total - s->records) / rate : -1);
	}
	return snprintf(p, n, "done %s%sok %llu%sfailed %llu%sin flight %llu"
	    "%s%s%s%s%s", done, sep, (unsigned long long)s->ok, sep,
	    (unsigned long long)(s->records - s->ok), sep,
	    (unsigned long long)s->inflight, sep, r,
	    s->has_total ? sep : "", s->has_total ? "ETA " : "",
	    s->has_total ? eta : "");
}

/* Build the line for now: roomy when it fits, tight, else cut to width. */
static void
stats_progress_line(const struct stats *s, double now, char *p, size_t n)
{
	char	tmp[256];
	size_t	width = stats_width(), len;
	double	rate = stats_window_rate(s, now);
	int	r;

	if (width + 1 < n)
		n = width + 1;
	r = stats_fmt_line(s, tmp, sizeof(tmp), "  ", rate);
	if (r < 0 || (size_t)r >= n)
		stats_fmt_line(s, tmp, sizeof(tmp), " ", rate);
	if ((len = strlen(tmp)) >= n)
		len = n - 1;
	memcpy(p, tmp, len);
	p[len] = '\0';
}

/*
 * The count left on stderr at the end, where a progress line was, made to
 * fit the terminal as the progress line is:
 *     done 500  ok 498  failed 2  in 12.3s
 *     done 120/500  ok 118  failed 2  in 3.1s      (a run cut short)
 */
static void
stats_final_line(const struct stats *s, double wall, char *p, size_t n)
{
	char		 done[64], tmp[256];
	const char	*sep = "  ";
	size_t		 width = stats_width(), len;
	int		 r;

	if (s->has_total && s->records != s->total)
		snprintf(done, sizeof(done), "%llu/%llu",
		    (unsigned long long)s->records,
		    (unsigned long long)s->total);
	else
		snprintf(done, sizeof(done), "%llu",
		    (unsigned long long)s->records);
	if (width + 1 < n)
		n = width + 1;
	for (;;) {
		r = snprintf(tmp, sizeof(tmp), "done %s%sok %llu%sfailed %llu"
		    "%sin %.1fs", done, sep, (unsigned long long)s->ok, sep,
		    (unsigned long long)(s->records - s->ok), sep, wall);
		if (r < 0 || (size_t)r < n || sep[1] == '\0')
			break;
		sep = " ";
	}
	if ((len = strlen(tmp)) >= n)
		len = n - 1;
	memcpy(p, tmp, len);
	p[len] = '\0';
}

/* Put the line on the terminal in one write: return, text, erase rest. */
static void
stats_draw(struct stats *s, const char *line)
{
	char	out[sizeof(s->line) + 8];
	int	n;

	n = snprintf(out, sizeof(out), "\r%s\033[K", line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out))
		n = (int)sizeof(out) - 1;
	fwrite(out, 1, (size_t)n, stderr);
	fflush(stderr);
	if (line != s->line)
		snprintf(s->line, sizeof(s->line), "%s", line);
	s->drawn = 1;
}

/*
 * Every tick: sample the rate window, and redraw when the counters moved
 * or the line has not been refreshed for a second (so a stall shows as a
 * falling rate), and then only if the text is not already on screen.
 */
static void
stats_progress_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct stats	*s = w->data;
	char		 line[sizeof(s->line)];
	double		 now = clock_mono();

	(void)evl;
	(void)revents;
	stats_window_push(s, now);
	if (s->drawn && s->gen == s->gen_drawn &&
	    now - s->t_drawn < PROGRESS_STALE)
		return;
	stats_progress_line(s, now, line, sizeof(line));
	s->gen_drawn = s->gen;
	s->t_drawn = now;
	if (s->drawn && strcmp(line, s->line) == 0)
		return;
	stats_draw(s, line);
}

/*
 * Whether stdout goes where nobody reads it as it comes: a regular file
 * or /dev/null.  Into a pipe (gather | jq) the reader may print to the
 * same terminal, and the line would be torn by its output.
 */
static int
stats_stdout_aside(void)
{
	struct stat	out, null;

	if (fstat(STDOUT_FILENO, &out) == -1)
		return 0;
	if (S_ISREG(out.st_mode))
		return 1;
	return S_ISCHR(out.st_mode) && stat("/dev/null", &null) == 0 &&
	    S_ISCHR(null.st_mode) && out.st_rdev == null.st_rdev;
}

/*
 * Whether stdout is the terminal stderr is: records printed there would
 * tear a live line, and the line would tear them.
 */
static int
stats_stdout_here(void)
{
	struct stat out, err;

	return isatty(STDOUT_FILENO) && fstat(STDOUT_FILENO, &out) == 0 &&
	    fstat(STDERR_FILENO, &err) == 0 && S_ISCHR(out.st_mode) &&
	    S_ISCHR(err.st_mode) && out.st_rdev == err.st_rdev;
}

/* Create the counters and, when progress is wanted, start its timer. */
struct stats *
stats_new(struct ev_loop *evl, const struct opts *o)
{
	struct stats *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->evl = evl;
	s->t0 = clock_mono();
	/* --stats is only set when asked for, so -q does not hide it. */
	s->mode = o->stats;
	if (!o->quiet) {
		s->verbose = o->verbose != 0;
		s->progress = o->progress > 0 ||
		    (o->progress < 0 && isatty(STDERR_FILENO) &&
		    stats_stdout_aside());
	}
	/* --progress with the records on this terminal: only the count. */
	s->final_only = s->progress && stats_stdout_here();
	stats_window_push(s, s->t0);
	ev_timer_init(&s->progress_w, stats_progress_cb, PROGRESS_EVERY,
	    PROGRESS_EVERY);
	s->progress_w.data = s;
	if (s->progress && !s->final_only && evl != NULL) {
		ev_timer_start(evl, &s->progress_w);
		/* The line alone must not keep the loop running. */
		ev_unref(evl);
		s->timer_on = 1;
	}
	return s;
}

/* Whether the progress line is drawn, so a total is worth counting. */
int
stats_progress(const struct stats *s)
{
	return s != NULL && s->progress;
}

/* Known up front for URL arguments: enables the fraction and the ETA. */
void
stats_set_total(struct stats *s, uint64_t n)
{
	if (s == NULL)
		return;
	s->total = n;
	s->has_total = 1;
	s->gen++;
}

/* A transfer attempt entered libcurl. */
void
stats_attempt_start(struct stats *s)
{
	if (s == NULL)
		return;
	s->inflight++;
	s->gen++;
}

/* A transfer attempt left libcurl; never below zero if calls mismatch. */
void
stats_attempt_end(struct stats *s)
{
	if (s == NULL)
		return;
	if (s->inflight > 0)
		s->inflight--;
	s->gen++;
}

/* Count one finished record; the hot path, so counters only. */
void
stats_record(struct stats *s, const struct rec *r)
{
	enum err_kind	k;
	long		st;

	if (s == NULL)
		return;
	k = (unsigned)r->res.kind < NKINDS ? r->res.kind : ERR_OTHER;
	s->records++;
	if (k == ERR_NONE)
		s->ok++;
	s->kinds[k]++;
	st = r->res.status;
	if (st == 0)
		s->classes[CLASS_NONE]++;
	else if (st >= 100 && st < 600)
		s->classes[st / 100]++;
	else
		s->classes[CLASS_OTHER]++;
	s->bytes += r->res.size;
	if (r->attempts > 0)
		hist_add(&s->lat, r->res.time.total);
	s->gen++;
}

/* Stop the timer, keeping libev's reference count balanced. */
static void
stats_timer_stop(struct stats *s)
{
	if (!s->timer_on)
		return;
	ev_ref(s->evl);
	ev_timer_stop(s->evl, &s->progress_w);
	s->timer_on = 0;
}

/* Take the line off the terminal, so what follows starts clean. */
static void
stats_clear(struct stats *s)
{
	if (!s->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	s->drawn = 0;
}

/*
 * The run is over: where a progress line was (or was held back), leave
 * the final count in its place, unless --stats prints its summary; then
 * the summary.
 */
void
stats_finish(struct stats *s)
{
	char	line[128];
	double	wall;

	if (s == NULL || s->finished)
		return;
	s->finished = 1;
	wall = clock_mono() - s->t0;
	stats_timer_stop(s);
	if (s->mode == 0 && (s->drawn || s->final_only)) {
		stats_final_line(s, wall, line, sizeof(line));
		fprintf(stderr, s->drawn ? "\r%s\033[K\n" : "%s\n", line);
		fflush(stderr);
		s->drawn = 0;
	}
	stats_clear(s);
	if (s->mode == STATS_JSON)
		stats_print_json(s, wall);
	else if (s->mode == STATS_TEXT)
		stats_print_text(s, wall);
}

/*
 * Stop the watcher before the memory that holds it goes; a run that ends
 * without stats_finish (a closed stdout) still leaves a clean terminal.
 */
void
stats_free(struct stats *s)
{
	size_t i;

	if (s == NULL)
		return;
	stats_timer_stop(s);
	stats_clear(s);
	for (i = 0; i < s->nslowed; i++)
		free(s->slowed[i].host);
	free(s->slowed);
	free(s);
}

/* Take the progress line off for a -v line; whether to draw it again. */
static int
stats_hide(struct stats *s)
{
	int redraw = s->drawn;

	stats_clear(s);
	return redraw;
}

/* Draw the progress line again under the -v line, if it was there. */
static void
stats_show(struct stats *s, int redraw)
{
	if (redraw)
		stats_draw(s, s->line);
}

/* Append url to b as a -v line shows it: its password "***". */
static int
stats_log_url(struct buf *b, const char *url)
{
	size_t off, len = 0;

	if ((off = url_password(url, &len)) == 0)
		return buf_append(b, url, strlen(url) + 1);
	return buf_append(b, url, off) == 0 && buf_append(b, "***", 3) == 0 &&
	    buf_append(b, url + off + len, strlen(url + off + len) + 1) == 0 ?
	    0 : -1;
}

/*
 * One -v line, written whole: an attempt that ended and what came of it.
 * The progress line is taken off first and drawn again after, so that the
 * log lines stand alone and the line stays at the bottom.
 */
void
stats_log(struct stats *s, const struct rec *r, const char *what)
{
	struct buf	 u = { NULL, 0, 0 };
	int		 redraw;

	if (!s->verbose)
		return;
	redraw = stats_hide(s);
	if (stats_log_url(&u, r->req.url.p != NULL ? r->req.url.p : "") == -1)
		msg_note("[%llu] (out of memory)", (unsigned long long)r->req.index);
	else if (r->res.kind == ERR_NONE)
		msg_note("[%llu] %s%ld %.3fs %s", (unsigned long long)r->req.index,
		    what, r->res.status, r->res.time.total, u.p);
	else
		msg_note("[%llu] %s%s: %s %s", (unsigned long long)r->req.index,
		    what, err_kind_name(r->res.kind), rec_msg(r), u.p);
	buf_free(&u);
	stats_show(s, redraw);
}


/*
 * r's answer paused host for secs: counted, and with -v said with the
 * wall-clock time (UTC) the pause ends.
 */
void
stats_pause(struct stats *s, const struct rec *r, const char *host,
    double secs)
{
	struct tm	tm;
	time_t		until;
	char		when[32] = "?";
	int		redraw;

	if (s == NULL)
		return;
	s->pauses++;
	s->gen++;
	if (!s->verbose)
		return;
	until = time(NULL) + (time_t)ceil(secs);
	if (gmtime_r(&until, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	redraw = stats_hide(s);
	msg_note("[%llu] %ld with Retry-After: host %s paused for %.3f s, "
	    "until %s", (unsigned long long)r->req.index, r->res.status, host, secs,
	    when);
	stats_show(s, redraw);
}

/* With -v: r's answer brought host's --adaptive limit down to limit. */
void
stats_limit(struct stats *s, const struct rec *r, const char *host,
    long limit)
{
	int redraw;

	if (s == NULL || !s->verbose)
		return;
	redraw = stats_hide(s);
	msg_note("[%llu] %s: host %s limit down to %ld",
	    (unsigned long long)r->req.index, r->res.kind == ERR_NONE ?
	    (r->res.status == 429 ? "429" : "503") : err_kind_name(r->res.kind), host,
	    limit);
	stats_show(s, redraw);
}

/* At the end: host's --adaptive limit came down to lowest; now final. */
void
stats_host_limit(struct stats *s, const char *host, long lowest, long final)
{
	struct slowed	*n;
	char		*dup;

	if (s == NULL)
		return;
	if (s->nslowed == SLOWED_MAX) {
		s->slowed_more++;
		return;
	}
	if (s->slowed == NULL && (s->slowed = calloc(SLOWED_MAX,
	    sizeof(*n))) == NULL) {
		s->slowed_more++;
		return;
	}
	if ((dup = strdup(host)) == NULL) {
		s->slowed_more++;
		return;
	}
	n = &s->slowed[s->nslowed++];
	n->host = dup;
	n->lowest = lowest;
	n->final = final;
}
