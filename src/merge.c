/*
 * merge: a streaming k-way merge by index of earlier outputs.  Each file
 * is read by earlier.c (the reader and strict check behind --resume) and
 * holds one pending record; a binary heap ordered by (index, file given
 * last first) picks the next record to write, and every other file with
 * that index drops its record.  Memory is one line per file, whatever the
 * files' lengths: a line over the reader's bound is written from its kept
 * head and then streamed from its file.
 *
 * --format tap and --junit need each record's outcome (struct outcome),
 * not its bytes: only then is a line parsed with cJSON.  A line over the
 * bound is never held whole: its status is read from the kept part, just
 * after the head, and its time, attempts and error, which gather writes
 * last, from the last MERGE_TAIL bytes of the line, kept as it streams by.
 */
#include "gather/merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gather/buf.h"
#include "gather/clock.h"
#include "gather/earlier.h"
#include "gather/ends.h"
#include "gather/junit.h"
#include "gather/msg.h"
#include "gather/text.h"
#include "gather/writer.h"

/* The end of a long line kept for its time, attempts and error. */
#define MERGE_TAIL	(64 * 1024)

/* One file of the merge and its pending record. */
struct src {
	struct earlier		*rd;
	const char		*path;
	size_t			 no;		/* its place on the command line */
	struct earlier_rec	 e;
	uint64_t		 last;		/* the index before, in this file */
	int			 any;		/* last is set */
};

struct merge {
	struct src		*v;
	size_t			 n;
	struct src	       **heap;
	size_t			 nheap;
	struct writer		*w;
	struct junit		*junit;		/* --junit, or NULL */
	int			 tap;		/* --format tap */
	int			 copy;		/* the lines are written as read */
	struct buf		 line;		/* a record and its newline */
	struct buf		 tail;		/* a long line's last bytes */
	struct buf		 tmp;		/* a JSON text to parse */
	struct outcome		 oc;		/* the record's, for tap and junit */
	char			 kind[64];	/* oc.kind's bytes */
	struct buf		 msg;		/* oc.msg's, NUL-terminated */
	int			 failed;	/* a record written was not ok */
	int			 werr;		/* a write failed: errno */
	char			 err[512];
};

/* Whether a goes before b: the lower index, then the file given later. */
static int
merge_before(const struct src *a, const struct src *b)
{
	if (a->e.index != b->e.index)
		return a->e.index < b->e.index;
	return a->no > b->no;
}

/* Put s on the heap. */
static void
merge_push(struct merge *m, struct src *s)
{
	size_t i = m->nheap++, up;

	while (i > 0 && merge_before(s, m->heap[up = (i - 1) / 2])) {
		m->heap[i] = m->heap[up];
		i = up;
	}
	m->heap[i] = s;
}

/* Take the first file off the heap. */
static struct src *
merge_pop(struct merge *m)
{
	struct src	*top = m->heap[0], *s;
	size_t		 i = 0, c;

	s = m->heap[--m->nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= m->nheap)
			break;
		if (c + 1 < m->nheap && merge_before(m->heap[c + 1],
		    m->heap[c]))
			c++;
		if (!merge_before(m->heap[c], s))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->nheap > 0)
		m->heap[i] = s;
	return top;
}

/*
 * The next record of s onto the heap, unless its file has ended; -1
 * (reason in m->err) when it is not a record or not ordered by index,
 * -2 when out of memory.
 */
static int
merge_advance(struct merge *m, struct src *s)
{
	int rc;

	if ((rc = earlier_pull(s->rd, &s->e, m->err, sizeof(m->err))) <= 0)
		return rc;
	if (s->any && s->e.index <= s->last) {
		snprintf(m->err, sizeof(m->err), "--merge: '%s' line %lu: index "
		    "%llu after %llu; each file must be ordered by index (an "
		    "-u output is not)", s->path, earlier_lineno(s->rd),
		    (unsigned long long)s->e.index,
		    (unsigned long long)s->last);
		return -1;
	}
	s->last = s->e.index;
	s->any = 1;
	merge_push(m, s);
	return 0;
}

/* Keep the last MERGE_TAIL bytes of a long line, n more at p. */
static int
merge_keep_tail(struct merge *m, const char *p, size_t n)
{
	if (n >= MERGE_TAIL) {
		buf_clear(&m->tail);
		return buf_append(&m->tail, p + n - MERGE_TAIL, MERGE_TAIL);
	}
	if (m->tail.len + n > 2 * MERGE_TAIL) {
		memmove(m->tail.p, m->tail.p + m->tail.len - (MERGE_TAIL - n),
		    MERGE_TAIL - n);
		m->tail.len = MERGE_TAIL - n;
	}
	return buf_append(&m->tail, p, n);
}

/* Write (and for a report keep the end of) part of a long line. */
static int
merge_more(void *arg, const char *p, size_t n)
{
	struct merge *m = arg;

	if ((m->tap || m->junit != NULL) && merge_keep_tail(m, p, n) == -1) {
		m->werr = ENOMEM;
		return -1;
	}
	if (m->copy && writer_emit_more(m->w, p, n) == -1) {
		m->werr = errno;
		return -1;
	}
	return 0;
}

/* The top-level member "name": of the record text p (n bytes), or NULL. */
static const char *
merge_member(const char *p, size_t n, const char *name)
{
	size_t	i, depth = 0, len = strlen(name);
	int	str = 0;

	for (i = 0; i < n; i++) {
		if (str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				str = 0;
		} else if (p[i] == '"') {
			if (depth == 1 && n - i > len + 2 && memcmp(p + i + 1,
			    name, len) == 0 && p[i + 1 + len] == '"' &&
			    p[i + 2 + len] == ':')
				return p + i + len + 3;
			str = 1;
		} else if (p[i] == '{' || p[i] == '[')
			depth++;
		else if (p[i] == '}' || p[i] == ']')
			depth--;
	}
	return NULL;
}

/* Fill m->oc's status, attempts, time and error from a record's members. */
static void
merge_fields(struct merge *m, const cJSON *rec)
{
	const cJSON	*v, *err;

	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(rec,
	    "status")))
		m->oc.status = (long)v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(rec,
	    "attempts")))
		m->oc.attempts = (long)v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(rec, "time");
	if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(v, "total")))
		m->oc.time = v->valuedouble;
	err = cJSON_GetObjectItemCaseSensitive(rec, "error");
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(err, "kind")))
		snprintf(m->kind, sizeof(m->kind), "%s", v->valuestring);
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(err,
	    "message"))) {
		buf_clear(&m->msg);
		if (buf_append(&m->msg, v->valuestring,
		    strlen(v->valuestring) + 1) == -1)
			buf_clear(&m->msg);
	}
}

/*
 * Parse the n bytes at p as JSON into m's outcome; -1 when out of memory,
 * or when a whole record (the reader checked it) does not parse.
 */
static int
merge_parse(struct merge *m, const char *p, size_t n, int whole)
{
	cJSON *rec;

	buf_clear(&m->tmp);
	if (buf_append(&m->tmp, p, n) == -1)
		return -1;
	if ((rec = cJSON_ParseWithLength(m->tmp.p, m->tmp.len)) == NULL)
		return whole ? -1 : 0;
	merge_fields(m, rec);
	cJSON_Delete(rec);
	return 0;
}

/*
 * A long line: its status follows the head in the part kept; its time,
 * attempts and error are the line's last members, read from its tail as
 * the object {"time": ...}.  What the tail does not hold stays unknown.
 */
static int
merge_parse_cut(struct merge *m, const struct src *s)
{
	const char	*v, *end = m->tail.p + m->tail.len, *t = NULL, *q;
	char		*stop;
	long		 status;

	if ((v = merge_member(s->e.text.p, s->e.text.n, "status")) != NULL &&
	    (status = strtol(v, &stop, 10)) > 0 && stop > v)
		m->oc.status = status;
	/* No "time": of a body or message is unescaped; the last is ours. */
	for (q = m->tail.p; m->tail.len > 8 && q + 8 <= end; q++)
		if (memcmp(q, ",\"time\":", 8) == 0)
			t = q;
	if (t == NULL)
		return 0;
	buf_clear(&m->line);
	if (buf_append(&m->line, "{", 1) == -1 ||
	    buf_append(&m->line, t + 1, (size_t)(end - t - 1)) == -1)
		return -1;
	return merge_parse(m, m->line.p, m->line.len, 0);
}

/* The outcome of the record s holds, read whole (a long line's too). */
static int
merge_outcome(struct merge *m, const struct src *s)
{
	memset(&m->oc, 0, sizeof(m->oc));
	m->oc.index = s->e.index;
	m->oc.url = s->e.url != NULL ? s->e.url : "";
	m->oc.url_len = s->e.url != NULL ? s->e.url_len : 0;
	m->oc.ok = s->e.ok;
	m->kind[0] = '\0';
	buf_clear(&m->msg);
	if ((s->e.cut ? merge_parse_cut(m, s) : merge_parse(m, s->e.text.p,
	    s->e.text.n, 1)) == -1)
		return -1;
	if (m->oc.ok)
		return 0;
	m->oc.kind = m->kind[0] ? m->kind : "other";
	m->oc.msg = m->msg.len > 0 ? m->msg.p : s->e.cut ? "the record is "
	    "over 1 MiB and its error was past the end kept of it" :
	    "the record names no error";
	return 0;
}

/* tap and junit: the outcome of s, written and added; as merge_write. */
static int
merge_report(struct merge *m, const struct src *s)
{
	if (merge_outcome(m, s) == -1) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -2;
	}
	if (m->junit != NULL)
		(void)junit_add(m->junit, &m->oc);	/* junit_finish tells */
	if (m->tap && writer_emit_outcome(m->w, &m->oc) == -1) {
		m->werr = errno;
		return -1;
	}
	return 0;
}

/*
 * Write the record s holds; -1 when a write failed (errno in m->werr),
 * -2 when out of memory, -3 when its file ended inside it (m->err).
 */
static int
merge_write(struct merge *m, struct src *s)
{
	int rc;

	m->failed |= !s->e.ok;
	if (s->e.cut) {
		buf_clear(&m->tail);
		if ((m->tap || m->junit != NULL) && merge_keep_tail(m,
		    s->e.text.p, s->e.text.n) == -1) {
			snprintf(m->err, sizeof(m->err), "out of memory");
			return -2;
		}
		if (m->copy && writer_emit(m->w, s->e.text.p, s->e.text.n) ==
		    -1) {
			m->werr = errno;
			return -1;
		}
		if ((rc = earlier_rest(s->rd, merge_more, m)) == -1 &&
		    m->werr == 0) {
			snprintf(m->err, sizeof(m->err), "--merge: cannot read "
			    "'%s': %s", s->path, strerror(errno));
			return -3;
		}
		if (rc == -1 && m->werr == ENOMEM) {
			snprintf(m->err, sizeof(m->err), "out of memory");
			return -2;
		}
		if (rc == -1)
			return -1;
		if (rc == 1) {
			snprintf(m->err, sizeof(m->err), "--merge: '%s' line "
			    "%lu is cut short", s->path,
			    earlier_lineno(s->rd));
			return -3;
		}
		if (m->copy && writer_emit_more(m->w, "\n", 1) == -1) {
			m->werr = errno;
			return -1;
		}
		return m->copy && m->junit == NULL ? 0 : merge_report(m, s);
	}
	if ((m->tap || m->junit != NULL) && (rc = merge_report(m, s)) != 0)
		return rc;
	if (!m->copy)
		return 0;
	buf_clear(&m->line);
	if (buf_append(&m->line, s->e.text.p, s->e.text.n) == -1 ||
	    buf_append(&m->line, "\n", 1) == -1) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -2;
	}
	if (writer_emit(m->w, m->line.p, m->line.len) == -1) {
		m->werr = errno;
		return -1;
	}
	return 0;
}

/* Open every file and take its first record; the exit status or -1. */
static int
merge_open(struct merge *m, const struct opts *o)
{
	static const struct earlier_spec spec = { .opt = "--merge",
	    .cut = "\"status\"", .dash = 1 };
	size_t	i;

	m->n = o->nurls;
	if ((m->v = calloc(m->n, sizeof(*m->v))) == NULL ||
	    (m->heap = calloc(m->n, sizeof(*m->heap))) == NULL)
		return msg_refuse("out of memory", EXIT_SOME_FAILED);
	for (i = 0; i < m->n; i++) {
		m->v[i].path = o->urls[i];
		m->v[i].no = i;
		if ((m->v[i].rd = earlier_open(o->urls[i], &spec, m->err,
		    sizeof(m->err))) == NULL)
			return msg_refuse(m->err, EXIT_USAGE);
		if (merge_advance(m, &m->v[i]) < 0)
			return msg_refuse(m->err, EXIT_USAGE);
	}
	return -1;
}

/* Merge until every file has ended; the exit status. */
static int
merge_loop(struct merge *m)
{
	struct src	*top;
	int		 rc;

	while (m->nheap > 0) {
		top = merge_pop(m);
		/* The same index in files given before: theirs is replaced. */
		while (m->nheap > 0 && m->heap[0]->e.index == top->e.index)
			if ((rc = merge_advance(m, merge_pop(m))) < 0)
				goto bad;
		if ((rc = merge_write(m, top)) == -1)
			goto werr;
		if (rc < 0 || (rc = merge_advance(m, top)) < 0)
			goto bad;
	}
	if (writer_finish(m->w) == -1) {
		m->werr = errno;
		goto werr;
	}
	return m->failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
werr:
	if (m->werr == EPIPE)
		return EXIT_SIGPIPE;
	msg_error("cannot write output: %s",
	    strerror(m->werr));
	return EXIT_SOME_FAILED;
bad:
	writer_finish(m->w);
	return msg_refuse(m->err, rc == -2 ? EXIT_SOME_FAILED : EXIT_USAGE);
}

/*
 * Run --merge over the files of o, writing through w (and to --junit's
 * report); the exit status.
 */
int
merge_run(const struct opts *o, struct writer *w)
{
	struct merge	m;
	size_t		i;
	int		status;

	memset(&m, 0, sizeof(m));
	m.w = w;
	m.tap = o->format == FORMAT_TAP;
	m.copy = !m.tap;
	if (o->junit != NULL && (m.junit = junit_open(o->junit,
	    clock_wall(), m.err, sizeof(m.err))) == NULL)
		return msg_refuse(m.err, EXIT_USAGE);
	if ((status = merge_open(&m, o)) == -1)
		status = merge_loop(&m);
	if (m.junit != NULL && junit_finish(m.junit, clock_wall(), m.err,
	    sizeof(m.err)) == -1) {
		(void)msg_refuse(m.err, EXIT_SOME_FAILED);
		if (status == EXIT_ALL_OK)
			status = EXIT_SOME_FAILED;
	}
	junit_free(m.junit);
	for (i = 0; m.v != NULL && i < m.n; i++)
		earlier_close(m.v[i].rd);
	free(m.v);
	free(m.heap);
	buf_free(&m.line);
	buf_free(&m.tail);
	buf_free(&m.tmp);
	buf_free(&m.msg);
	return status;
}
