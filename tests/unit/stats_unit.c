/*
 * Unit tests for stats through its public calls: counts, the latency
 * histogram's percentiles and error bound, the text and JSON summaries,
 * -q, and the progress line drawn by its timer.  stderr is captured in a
 * temporary file around each call that prints.
 *
 * Built and run by `make unit`, linked against every module but main.c
 * (obj/stats_unit).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ev.h>

#include "gather/stats.h"

#define CHECK_NAME "stats_unit"
#include "check.h"

static FILE	*cap_file;
static int	 cap_saved = -1;

/* Send stderr to a temporary file until capture_end. */
static void
capture_begin(void)
{
	fflush(stderr);
	if ((cap_file = tmpfile()) == NULL || (cap_saved = dup(2)) == -1 ||
	    dup2(fileno(cap_file), 2) == -1) {
		perror("stats_unit: capture");
		exit(2);
	}
}

/* Restore stderr and return what was written to it (caller frees). */
static char *
capture_end(void)
{
	char	*p;
	long	 n;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	n = ftell(cap_file);
	if (n < 0 || (p = calloc(1, (size_t)n + 1)) == NULL)
		exit(2);
	rewind(cap_file);
	if (n > 0 && fread(p, 1, (size_t)n, cap_file) != (size_t)n)
		exit(2);
	fclose(cap_file);
	return p;
}

static void
opts_init(struct opts *o, int progress, int stats, int quiet)
{
	memset(o, 0, sizeof(*o));
	o->progress = progress;
	o->stats = stats;
	o->quiet = quiet;
}

static void
rec_init(struct rec *r, enum err_kind kind, long status, int attempts,
    double total, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->res.kind = kind;
	r->res.status = status;
	r->attempts = attempts;
	r->res.time.total = total;
	r->res.size = size;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The exact nearest-rank quantile of sorted v[0..n). */
static double
exact_quantile(const double *v, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n - 1e-9);

	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Whether a reported ms value is within the promised bound of exact s. */
static int
within(double ms, double exact_s)
{
	double exact_ms = exact_s * 1000;

	return ms >= exact_ms - 0.0005 && ms <= exact_ms * (1 + 1.0 / 32) +
	    0.0015;
}

static void
test_json_summary(struct ev_loop *evl)
{
	struct opts	 o;
	struct stats	*s;
	struct rec	 r;
	double		 lat[1002];
	size_t		 i, n = 0;
	char		*out;
	cJSON		*j, *e, *st, *l;

	opts_init(&o, 0, STATS_JSON, 0);
	s = stats_new(evl, &o);
	CHECK(s != NULL);
	stats_set_total(s, 1003);
	for (i = 0; i < 1000; i++) {
		/* 1 ms to 1 s, and a few odd ones. */
		double t = (double)(i + 1) / 1000;
		stats_attempt_start(s);
		stats_attempt_end(s);
		rec_init(&r, ERR_NONE, 200, 1, t, 10);
		stats_record(s, &r);
		lat[n++] = t;
	}
	for (i = 0; i < 2; i++) {
		rec_init(&r, ERR_HTTP, 500, 2, 0.0005, 10);
		stats_record(s, &r);
		lat[n++] = 0.0005;
	}
	rec_init(&r, ERR_BAD_INPUT, 0, 0, 0, 0);	/* no attempt: no latency */
	stats_record(s, &r);
	qsort(lat, n, sizeof(lat[0]), cmp_double);

	capture_begin();
	stats_finish(s);
	stats_finish(s);				/* a second call: nothing */
	out = capture_end();
	stats_free(s);

	CHECK(strchr(out, '\n') == out + strlen(out) - 1);	/* one line */
	j = cJSON_Parse(out);
	CHECK(j != NULL);
	CHECK(num(j, "records") == 1003);
	CHECK(num(j, "ok") == 1000);
	CHECK(num(j, "failed") == 3);
	CHECK(num(j, "bytes") == 10020);
	CHECK(num(j, "wall_s") >= 0 && num(j, "wall_s") < 5);
	CHECK(num(j, "rps") >= 0);
	e = cJSON_GetObjectItemCaseSensitive(j, "errors");
	CHECK(cJSON_GetArraySize(e) == 2);
	CHECK(num(e, "http") == 2 && num(e, "bad_input") == 1);
	st = cJSON_GetObjectItemCaseSensitive(j, "status");
	CHECK(cJSON_GetArraySize(st) == 3);
	CHECK(num(st, "2xx") == 1000 && num(st, "5xx") == 2 &&
	    num(st, "none") == 1);
	l = cJSON_GetObjectItemCaseSensitive(j, "latency_ms");
	CHECK(num(l, "max") == 1000);
	CHECK(within(num(l, "p50"), exact_quantile(lat, n, 0.50)));
	CHECK(within(num(l, "p90"), exact_quantile(lat, n, 0.90)));
	CHECK(within(num(l, "p99"), exact_quantile(lat, n, 0.99)));
	CHECK(num(l, "p50") <= num(l, "p90") && num(l, "p90") <= num(l, "p99")
	    && num(l, "p99") <= num(l, "max"));
	cJSON_Delete(j);
	free(out);
}

/* Every magnitude from 1 us to days lands within 1/32 above the truth. */
static void
test_error_bound(struct ev_loop *evl)
{
	struct opts	 o;
	struct stats	*s;
	struct rec	 r;
	double		 t, worst = 0, p50;
	char		*out;
	cJSON		*j;
	int		 bad = 0;

	opts_init(&o, 0, STATS_JSON, 0);
	for (t = 1e-6; t < 4e5; t *= 1.037) {
		s = stats_new(evl, &o);
		rec_init(&r, ERR_NONE, 200, 1, t, 0);
		stats_record(s, &r);
		rec_init(&r, ERR_NONE, 200, 1, t * 3, 0);	/* the max */
		stats_record(s, &r);
		capture_begin();
		stats_finish(s);
		out = capture_end();
		stats_free(s);
		j = cJSON_Parse(out);
		p50 = num(cJSON_GetObjectItemCaseSensitive(j, "latency_ms"),
		    "p50");
		/* Rounded to whole microseconds first, so allow 1 us. */
		if (!within(p50, t))
			bad++;
		if (t > 1e-4 && (p50 / 1000 - t) / t > worst)
			worst = (p50 / 1000 - t) / t;
		cJSON_Delete(j);
		free(out);
	}
	CHECK(bad == 0);
	CHECK(worst < 1.0 / 32);
	printf("stats_unit: worst relative overstatement %.4f (bound %.4f)\n",
	    worst, 1.0 / 32);
}

/* Nearest rank for every small n: p90 of ten samples is the ninth. */
static void
test_ranks(struct ev_loop *evl)
{
	struct opts	 o;
	struct stats	*s;
	struct rec	 r;
	double		 lat[64];
	char		*out;
	cJSON		*j, *l;
	size_t		 n, k;
	int		 bad = 0;

	opts_init(&o, 0, STATS_JSON, 0);
	for (n = 1; n <= 64; n++) {
		s = stats_new(evl, &o);
		for (k = 0; k < n; k++) {
			/* Far apart, so a rank off by one shows. */
			lat[k] = 0.001 * (double)(1 + k) * (1 + k % 3);
			rec_init(&r, ERR_NONE, 200, 1, lat[k], 0);
			stats_record(s, &r);
		}
		qsort(lat, n, sizeof(lat[0]), cmp_double);
		capture_begin();
		stats_finish(s);
		out = capture_end();
		stats_free(s);
		j = cJSON_Parse(out);
		l = cJSON_GetObjectItemCaseSensitive(j, "latency_ms");
		if (!within(num(l, "p50"), exact_quantile(lat, n, 0.50)) ||
		    !within(num(l, "p90"), exact_quantile(lat, n, 0.90)) ||
		    !within(num(l, "p99"), exact_quantile(lat, n, 0.99)) ||
		    fabs(num(l, "max") - lat[n - 1] * 1000) > 1e-9)
			bad++;
		cJSON_Delete(j);
		free(out);
	}
	CHECK(bad == 0);
}

static void
test_text_summary(struct ev_loop *evl)
{
	struct opts	 o;
	struct stats	*s;
	struct rec	 r;
	char		*out;
	int		 i;

	opts_init(&o, 0, STATS_TEXT, 0);
	s = stats_new(evl, &o);
	for (i = 0; i < 10; i++) {
		rec_init(&r, ERR_NONE, 200, 1, 0.002, 2048);
		stats_record(s, &r);
	}
	rec_init(&r, ERR_TIMEOUT, 0, 3, 1.5, 0);
	stats_record(s, &r);
	rec_init(&r, ERR_HTTP, 503, 1, 0.001, 0);
	stats_record(s, &r);
	capture_begin();
	stats_finish(s);
	out = capture_end();
	stats_free(s);
	fputs(out, stdout);
	CHECK(strstr(out, "records:  12\n") != NULL);
	CHECK(strstr(out, "ok:       10\n") != NULL);
	CHECK(strstr(out, "failed:   2 (timeout 1, http 1)\n") != NULL);
	CHECK(strstr(out, "status:   2xx 10, 5xx 1, none 1\n") != NULL);
	CHECK(strstr(out, "latency:  p50 ") != NULL);
	CHECK(strstr(out, "max 1500 ms\n") != NULL);
	CHECK(strstr(out, "bytes:    20480 (20.0 KiB)\n") != NULL);
	CHECK(strstr(out, "wall:     ") != NULL);
	CHECK(strstr(out, "rate:     ") != NULL);
	free(out);

	/* Nothing at all: dashes, not zeros that look measured. */
	s = stats_new(evl, &o);
	capture_begin();
	stats_finish(s);
	out = capture_end();
	stats_free(s);
	CHECK(strstr(out, "records:  0\n") != NULL);
	CHECK(strstr(out, "failed:   0\n") != NULL);
	CHECK(strstr(out, "status:   -\n") != NULL);
	CHECK(strstr(out, "latency:  -\n") != NULL);
	free(out);

	/* JSON of nothing: null percentiles. */
	opts_init(&o, 0, STATS_JSON, 0);
	s = stats_new(evl, &o);
	capture_begin();
	stats_finish(s);
	out = capture_end();
	stats_free(s);
	CHECK(strstr(out, "\"latency_ms\":{\"p50\":null,\"p90\":null,"
	    "\"p99\":null,\"max\":null}") != NULL);
	CHECK(strstr(out, "\"errors\":{}") != NULL);
	free(out);
}

static void
test_quiet(struct ev_loop *evl)
{
	struct opts	 o;
	struct stats	*s;
	struct rec	 r;
	char		*out;

	/* -q hides the line; only an explicit --stats is still printed. */
	opts_init(&o, 1, 0, 1);
	capture_begin();
	s = stats_new(evl, &o);
	rec_init(&r, ERR_NONE, 200, 1, 0.01, 1);
	stats_record(s, &r);
	ev_run(evl, 0);			/* returns: no timer holds the loop */
	stats_finish(s);
	stats_free(s);
	out = capture_end();
	CHECK(out[0] == '\0');
	free(out);
	opts_init(&o, 1, STATS_TEXT, 1);
	capture_begin();
	s = stats_new(evl, &o);
	stats_record(s, &r);
	ev_run(evl, 0);
	stats_finish(s);
	stats_free(s);
	out = capture_end();
	CHECK(strncmp(out, "records:  1\n", 12) == 0);
	free(out);

	/* -1 with stderr not a terminal (the capture file): no line. */
	opts_init(&o, -1, 0, 0);
	capture_begin();
	s = stats_new(evl, &o);
	stats_finish(s);
	stats_free(s);
	out = capture_end();
	CHECK(out[0] == '\0');
	free(out);
}

struct feed {
	struct stats	*s;
	int		 left;
	ev_timer	 w;
};

/* Finish one fake record every tick, like a slow run would. */
static void
feed_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct feed	*f = w->data;
	struct rec	 r;

	(void)revents;
	stats_attempt_end(f->s);
	rec_init(&r, f->left % 4 ? ERR_NONE : ERR_TIMEOUT, 200, 1, 0.03, 5);
	stats_record(f->s, &r);
	if (--f->left == 0)
		ev_timer_stop(evl, w);
	else
		stats_attempt_start(f->s);
}

static void
test_progress(struct ev_loop *evl)
{
	struct opts	 o;
	struct feed	 f;
	char		*out, *p, *q;
	size_t		 n;
	int		 lines = 0, long_lines = 0;

	opts_init(&o, 1, 0, 0);
	f.s = stats_new(evl, &o);
	f.left = 12;
	stats_set_total(f.s, 12);
	stats_attempt_start(f.s);
	ev_timer_init(&f.w, feed_cb, 0.04, 0.04);
	f.w.data = &f;
	ev_timer_start(evl, &f.w);
	capture_begin();
	ev_run(evl, 0);		/* ends by itself once the feeder stops */
	stats_finish(f.s);
	out = capture_end();
	stats_free(f.s);
	printf("stats_unit: progress output: ");
	for (p = out; *p; p++)
		if (*p == '\r')
			printf("\\r");
		else if (*p == '\033')
			printf("\\e");
		else
			putchar(*p);
	putchar('\n');
	CHECK(out[0] == '\r');
	CHECK(strstr(out, "done ") != NULL);
	CHECK(strstr(out, "/12 ") != NULL);
	CHECK(strstr(out, " ok ") != NULL);
	CHECK(strstr(out, " failed ") != NULL);
	CHECK(strstr(out, " in flight 1 ") != NULL);
	CHECK(strstr(out, "/s ") != NULL);
	CHECK(strstr(out, "ETA ") != NULL);
	n = strlen(out);
	/* The line ends as the final count, with the only newline. */
	CHECK(n >= 5 && strcmp(out + n - 4, "\033[K\n") == 0);
	CHECK(strstr(out, "\rdone 12  ok 9  failed 3  in ") != NULL);
	CHECK(strchr(out, '\n') == out + n - 1);
	/* Each drawing: \r, at most 79 columns, \e[K. */
	for (p = out; (p = strchr(p, '\r')) != NULL; p = q) {
		p++;
		if ((q = strstr(p, "\033[K")) == NULL)
			break;
		lines++;
		if (q - p > 79)
			long_lines++;
	}
	CHECK(lines >= 2);
	CHECK(long_lines == 0);
	free(out);
}

int
main(void)
{
	struct ev_loop *evl;

	if ((evl = ev_loop_new(EVFLAG_AUTO)) == NULL)
		return 2;
	test_json_summary(evl);
	test_error_bound(evl);
	test_ranks(evl);
	test_text_summary(evl);
	test_quiet(evl);
	test_progress(evl);
	ev_loop_destroy(evl);
	return check_report();
}
