/*
 * jobs_read: a worker's record line, read back in the parent for what the
 * parent itself needs of it (its stats, --fail-fast, --format tap and
 * --junit): status, size, attempts, total time and the error.  The line is
 * written as the worker wrote it; only these fields are taken from it.
 */
#include "jobs_int.h"

#include <stdlib.h>
#include <string.h>

#include "gather/json.h"
#include "gather/text.h"

/* Read the kind named by the JSON string v. */
static enum err_kind
jobs_read_kind(const struct json_span *v)
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
jobs_read_num(const struct json_span *v)
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
jobs_read_error(struct buf *msg, struct rec *r, const struct json_span *v)
{
	struct json_span	k, m;
	enum err_kind		kind = ERR_OTHER;
	size_t			pos = 0;

	buf_clear(msg);
	while (json_next(v->p, v->n, &pos, &k, &m) == 0) {
		if (k.n == 6 && memcmp(k.p, "\"kind\"", 6) == 0)
			kind = jobs_read_kind(&m);
		else if (k.n == 9 && memcmp(k.p, "\"message\"", 9) == 0 &&
		    m.p[0] == '"' && json_unescape(msg, m.p, m.n) == -1)
			buf_clear(msg);
	}
	if (buf_append(msg, "", 1) == -1)
		rec_fail(r, kind, "%s", "");
	else
		rec_fail(r, kind, "%s", msg->p);
}

/*
 * What the parent's stats, --fail-fast, --format tap and --junit need of
 * a record's line, into r; msg is room for its error's message.
 */
void
jobs_read_rec(struct rec *r, struct buf *msg, const char *p, size_t n)
{
	struct json_span k, v, k2, v2;
	size_t		 pos = 0, pos2;

	while (json_next(p, n, &pos, &k, &v) == 0) {
		if (k.n == 8 && memcmp(k.p, "\"status\"", 8) == 0)
			r->res.status = (long)jobs_read_num(&v);
		else if (k.n == 6 && memcmp(k.p, "\"size\"", 6) == 0)
			r->res.size = (uint64_t)jobs_read_num(&v);
		else if (k.n == 10 && memcmp(k.p, "\"attempts\"", 10) == 0)
			r->attempts = (int)jobs_read_num(&v);
		else if (k.n == 6 && memcmp(k.p, "\"time\"", 6) == 0 &&
		    v.p[0] == '{') {
			pos2 = 0;
			while (json_next(v.p, v.n, &pos2, &k2, &v2) == 0)
				if (k2.n == 7 && memcmp(k2.p, "\"total\"", 7) == 0)
					r->res.time.total = jobs_read_num(&v2);
		} else if (k.n == 7 && memcmp(k.p, "\"error\"", 7) == 0 &&
		    v.p[0] == '{')
			jobs_read_error(msg, r, &v);
	}
}
