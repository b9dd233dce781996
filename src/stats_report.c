/*
 * stats_report: the --stats summary, formatted once at the end of the run
 * from the counters stats.c kept: aligned text lines or one JSON object,
 * each leaving in one write.
 */
#include "gather/stats.h"
#include "gather/stats_def.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gather/msg.h"

const char *const stats_class_names[NCLASSES] = {
	"none", "1xx", "2xx", "3xx", "4xx", "5xx", "other"
};

/* The order classes are reported in: responses first, then the rest. */
const enum status_class stats_class_order[NCLASSES] = {
	CLASS_1XX, CLASS_2XX, CLASS_3XX, CLASS_4XX, CLASS_5XX, CLASS_OTHER,
	CLASS_NONE
};

/* Milliseconds from us, with the digits a reader can use. */
static void
stats_fmt_ms(char *p, size_t n, uint64_t us)
{
	stats_fmt_digits(p, n, (double)us / 1000, 10, 100, " ms");
}

/* "1.2 MiB" beside the exact count, for a reader of the text summary. */
static void
stats_fmt_bytes(char *p, size_t n, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double	v = (double)b;
	size_t	u = 0;

	if (b < 1024) {
		snprintf(p, n, "%llu", (unsigned long long)b);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(p, n, "%llu (%.1f %s)", (unsigned long long)b, v, units[u]);
}

/* Records per second over the whole run. */
static double
stats_rps(const struct stats *s, double wall)
{
	return wall > 0 ? (double)s->records / wall : 0;
}

/* The summary's counts: records, ok, failed by kind, statuses by class. */
static void
stats_text_counts(const struct stats *s, struct buf *sb)
{
	const char	*sep;
	size_t		 i;

	buf_printf(sb, "records:  %llu\n", (unsigned long long)s->records);
	buf_printf(sb, "ok:       %llu\n", (unsigned long long)s->ok);
	buf_printf(sb, "failed:   %llu",
	    (unsigned long long)(s->records - s->ok));
	sep = " (";
	for (i = ERR_NONE + 1; i < NKINDS; i++) {
		if (s->kinds[i] == 0)
			continue;
		buf_printf(sb, "%s%s %llu", sep,
		    err_kind_name((enum err_kind)i),
		    (unsigned long long)s->kinds[i]);
		sep = ", ";
	}
	buf_printf(sb, "%s\n", sep[0] == ',' ? ")" : "");
	buf_printf(sb, "status:   ");
	sep = "";
	for (i = 0; i < NCLASSES; i++) {
		if (s->classes[stats_class_order[i]] == 0)
			continue;
		buf_printf(sb, "%s%s %llu", sep, stats_class_names[stats_class_order[i]],
		    (unsigned long long)s->classes[stats_class_order[i]]);
		sep = ", ";
	}
	buf_printf(sb, "%s\n", sep[0] == '\0' ? "-" : "");
}

/* What the text summary's lines take, but for "slowed:" lines; and one. */
#define STATS_TEXT_ROOM		2048
#define STATS_SLOWED_ROOM	320

/* The text summary: aligned "label: value" lines, in one write. */
void
stats_print_text(const struct stats *s, double wall)
{
	static const unsigned	 qs[] = { 500, 900, 990 };
	static const char *const qn[] = { "p50", "p90", "p99" };
	struct buf		 sb = { NULL, 0, 0 };
	char			 v[64];
	size_t			 i;

	/*
	 * Room for the whole summary at once (a line is at most a host name
	 * and some numbers), so that it is printed whole or not at all.
	 */
	if (buf_reserve(&sb, STATS_TEXT_ROOM + s->nslowed * STATS_SLOWED_ROOM) ==
	    -1) {
		msg_nomem();
		return;
	}
	stats_text_counts(s, &sb);
	buf_printf(&sb, "latency: ");
	if (s->lat.n == 0)
		buf_printf(&sb, " -");
	for (i = 0; s->lat.n > 0 && i < 3; i++) {
		stats_fmt_ms(v, sizeof(v), hist_quantile(&s->lat, qs[i]));
		buf_printf(&sb, " %s %s,", qn[i], v);
	}
	if (s->lat.n > 0) {
		stats_fmt_ms(v, sizeof(v), s->lat.max);
		buf_printf(&sb, " max %s", v);
	}
	buf_printf(&sb, "\n");

	stats_fmt_bytes(v, sizeof(v), s->bytes);
	buf_printf(&sb, "bytes:    %s\n", v);
	buf_printf(&sb, "wall:     %.3f s\n", wall);
	buf_printf(&sb, "rate:     %.1f records/s\n", stats_rps(s, wall));
	buf_printf(&sb, "pauses:   %llu\n", (unsigned long long)s->pauses);
	for (i = 0; i < s->nslowed; i++)
		buf_printf(&sb, "slowed:   %s lowest %ld, final %ld\n",
		    s->slowed[i].host, s->slowed[i].lowest, s->slowed[i].final);
	if (s->slowed_more > 0)
		buf_printf(&sb, "slowed:   %llu more hosts\n",
		    (unsigned long long)s->slowed_more);
	/* Best effort: what was formatted leaves in one write. */
	if (sb.len > 0)
		fwrite(sb.p, 1, sb.len, stderr);
	fflush(stderr);
	buf_free(&sb);
}

/* Round x to a multiple of 1/scale, so JSON numbers carry no noise. */
static double
stats_round(double x, double scale)
{
	return round(x * scale) / scale;
}

/*
 * "slowed": [{"host", "lowest", "final"}, ...], the hosts whose --adaptive
 * limit came down, and "slowed_more" when there were more than it lists.
 */
static int
stats_json_slowed(const struct stats *s, cJSON *root)
{
	cJSON	*a, *o;
	size_t	 i;

	if ((a = cJSON_AddArrayToObject(root, "slowed")) == NULL)
		return -1;
	for (i = 0; i < s->nslowed; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			return -1;
		cJSON_AddItemToArray(a, o);
		if (cJSON_AddStringToObject(o, "host", s->slowed[i].host) ==
		    NULL)
			return -1;
		cJSON_AddNumberToObject(o, "lowest", (double)s->slowed[i].lowest);
		cJSON_AddNumberToObject(o, "final", (double)s->slowed[i].final);
	}
	if (s->slowed_more > 0)
		cJSON_AddNumberToObject(root, "slowed_more",
		    (double)s->slowed_more);
	return 0;
}

/* The summary as one JSON object on one line, for jq. */
void
stats_print_json(const struct stats *s, double wall)
{
	cJSON	*root, *o;
	char	*text;
	size_t	 i;

	if ((root = cJSON_CreateObject()) == NULL)
		goto oom;
	cJSON_AddNumberToObject(root, "records", (double)s->records);
	cJSON_AddNumberToObject(root, "ok", (double)s->ok);
	cJSON_AddNumberToObject(root, "failed", (double)(s->records - s->ok));
	o = cJSON_AddObjectToObject(root, "errors");
	for (i = ERR_NONE + 1; i < NKINDS; i++)
		if (s->kinds[i] > 0)
			cJSON_AddNumberToObject(o,
			    err_kind_name((enum err_kind)i), (double)s->kinds[i]);
	o = cJSON_AddObjectToObject(root, "status");
	for (i = 0; i < NCLASSES; i++)
		if (s->classes[stats_class_order[i]] > 0)
			cJSON_AddNumberToObject(o, stats_class_names[stats_class_order[i]],
			    (double)s->classes[stats_class_order[i]]);
	o = cJSON_AddObjectToObject(root, "latency_ms");
	if (s->lat.n > 0) {
		cJSON_AddNumberToObject(o, "p50",
		    (double)hist_quantile(&s->lat, 500) / 1000);
		cJSON_AddNumberToObject(o, "p90",
		    (double)hist_quantile(&s->lat, 900) / 1000);
		cJSON_AddNumberToObject(o, "p99",
		    (double)hist_quantile(&s->lat, 990) / 1000);
		cJSON_AddNumberToObject(o, "max", (double)s->lat.max / 1000);
	} else {
		cJSON_AddNullToObject(o, "p50");
		cJSON_AddNullToObject(o, "p90");
		cJSON_AddNullToObject(o, "p99");
		cJSON_AddNullToObject(o, "max");
	}
	cJSON_AddNumberToObject(root, "bytes", (double)s->bytes);
	cJSON_AddNumberToObject(root, "wall_s", stats_round(wall, 1e6));
	cJSON_AddNumberToObject(root, "rps",
	    stats_round(stats_rps(s, wall), 100));
	cJSON_AddNumberToObject(root, "pauses", (double)s->pauses);
	if (stats_json_slowed(s, root) == -1)
		goto oom;
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		goto oom;
	fprintf(stderr, "%s\n", text);
	fflush(stderr);
	cJSON_free(text);
	cJSON_Delete(root);
	return;
oom:
	cJSON_Delete(root);
	msg_nomem();
}

