/*
 * earlier: the reader of an earlier run's output behind --resume and
 * --revalidate.  FILE is read a block at a time and no line is kept past
 * EARLIER_LINE_MAX bytes (the rest of a longer one is skipped, or
 * streamed to --merge's output), each line is parsed once or twice, and finding a
 * record glued to a cut line is one backward pass: reading is linear in
 * the size of FILE and its memory is one line.
 */
#include "gather/earlier.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/buf.h"
#include "gather/text.h"

/* Only this much of a line is kept: memory per line stays bounded. */
#define EARLIER_LINE_MAX	(1024 * 1024)

/* FILE read in blocks, one line at a time. */
struct earlier {
	const struct earlier_spec *spec;
	const char	*path;
	FILE		*f;
	unsigned long	 lineno;
	char		 block[65536];
	size_t		 pos, end;
	struct buf	 line;
	struct buf	 url;		/* a url of FILE, unescaped */
	struct buf	 head;		/* the head of a long line, closed */
	int		 too_long;	/* the line was over EARLIER_LINE_MAX */
	int		 rest;		/* a long line's rest is still unread */
	int		 complete;	/* the line ended with a newline */
};

/*
 * An index as gather writes it: decimal digits without a sign, fraction,
 * exponent or leading zero, within uint64.  0 when it is one.
 */
int
earlier_parse_index(const char *s, size_t n, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;
	unsigned	d;

	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Where the JSON object that ends line starts: the '{' that matches its
 * last '}', found walking back once.  Going backwards, a quote ends or
 * starts a string unless an odd run of backslashes comes before it.
 * Returns an offset, or -1 when line does not end with an object.
 */
long
earlier_last_object(const char *line, size_t len)
{
	size_t	i, k, depth = 0;
	int	in_string = 0;

	while (len > 0 && text_blank(line[len - 1]))
		len--;
	if (len == 0 || line[len - 1] != '}')
		return -1;
	for (i = len; i-- > 0; ) {
		if (line[i] == '"') {
			for (k = i; k > 0 && line[k - 1] == '\\'; k--)
				;
			if ((i - k) % 2 == 0)
				in_string = !in_string;
			continue;
		}
		if (in_string)
			continue;
		if (line[i] == '}' || line[i] == ']')
			depth++;
		else if (line[i] == '{' || line[i] == '[') {
			if (depth == 0)
				return -1;	/* a '[' closed by a '}' */
			if (--depth == 0)
				return line[i] == '{' ? (long)i : -1;
		}
	}
	return -1;
}

/* Whether the member name k is the quoted name q. */
static int
earlier_is(const struct json_span *k, const char *q)
{
	return q != NULL && k->n == strlen(q) && memcmp(k->p, q, k->n) == 0;
}

/*
 * Parse one line of FILE into e; -1 when it is not a record of ours.  The
 * line must be strict JSON (the same check as request objects), and the
 * index is read from its text, never through a double.
 */
static int
earlier_line(struct earlier *rd, const char *line, size_t len,
    struct earlier_rec *e)
{
	const struct earlier_spec *sp = rd->spec;
	struct json_span k, v, idx = { NULL, 0 }, url = { NULL, 0 },
			 ok = { NULL, 0 };
	size_t		 pos = 0, i;

	text_trim(&line, &len);
	if (len == 0 || line[0] != '{' || !json_valid(line, len))
		return -1;
	memset(e, 0, sizeof(*e));
	while (json_next(line, len, &pos, &k, &v) == 0) {
		if (earlier_is(&k, "\"index\""))
			idx = v;
		else if (earlier_is(&k, "\"url\""))
			url = v;
		else if (earlier_is(&k, "\"ok\""))
			ok = v;
		else
			for (i = 0; i < EARLIER_WANT_MAX; i++)
				if (earlier_is(&k, sp->want[i]))
					e->want[i] = v;
	}
	if (idx.p == NULL || earlier_parse_index(idx.p, idx.n, &e->index) ==
	    -1 || url.p == NULL || url.p[0] != '"' || ok.p == NULL ||
	    (!(ok.n == 4 && memcmp(ok.p, "true", 4) == 0) &&
	    !(ok.n == 5 && memcmp(ok.p, "false", 5) == 0)))
		return -1;
	e->ok = ok.n == 4;
	e->text.p = line;
	e->text.n = len;
	buf_clear(&rd->url);
	if (json_unescape(&rd->url, url.p, url.n) == -1)
		return -2;
	e->url = rd->url.p;
	e->url_len = rd->url.len;
	return 0;
}

/*
 * A line over EARLIER_LINE_MAX is a record with a large body or id: only
 * its head was kept.  gather writes the members a reader needs first, so
 * the head up to the member spec->cut at the top level, closed with a
 * brace, is a record of its own; -1 when there is none.
 */
static int
earlier_head(struct earlier *rd, const char *line, size_t len,
    struct earlier_rec *e)
{
	size_t	i, depth = 0, clen;
	int	str = 0, rc;
	char	cut[64];

	snprintf(cut, sizeof(cut), ",%s:", rd->spec->cut);
	clen = strlen(cut);
	for (i = 0; i < len; i++) {
		if (str) {
			if (line[i] == '\\')
				i++;
			else if (line[i] == '"')
				str = 0;
		} else if (line[i] == '"')
			str = 1;
		else if (line[i] == '{' || line[i] == '[')
			depth++;
		else if (line[i] == '}' || line[i] == ']')
			depth--;
		else if (depth == 1 && len - i >= clen &&
		    memcmp(line + i, cut, clen) == 0) {
			buf_clear(&rd->head);
			if (buf_append(&rd->head, line, i) == -1 ||
			    buf_append(&rd->head, "}", 1) == -1)
				return -2;
			if ((rc = earlier_line(rd, rd->head.p, rd->head.len,
			    e)) != 0)
				return rc;
			/* The record is the whole line: the head, then the rest. */
			e->text.p = line;
			e->text.n = len;
			e->cut = 1;
			return 0;
		}
	}
	return -1;
}

/* Fill the block from FILE: 1, 0 at its end, -1 on a read error. */
static int
earlier_fill(struct earlier *rd)
{
	if (rd->pos < rd->end)
		return 1;
	rd->pos = 0;
	rd->end = fread(rd->block, 1, sizeof(rd->block), rd->f);
	if (rd->end == 0)
		return ferror(rd->f) ? -1 : 0;
	return 1;
}

/*
 * The rest of a long line, to fn (or nowhere when fn is NULL): 0 when a
 * newline ended it, 1 when FILE ended first, -1 on a read error or when
 * fn failed.
 */
int
earlier_rest(struct earlier *rd, int (*fn)(void *, const char *, size_t),
    void *arg)
{
	const char	*nl;
	size_t		 n;
	int		 got;

	while (rd->rest) {
		if ((got = earlier_fill(rd)) <= 0) {
			rd->rest = 0;
			return got == 0 ? 1 : -1;
		}
		nl = memchr(rd->block + rd->pos, '\n', rd->end - rd->pos);
		n = nl != NULL ? (size_t)(nl - rd->block) - rd->pos :
		    rd->end - rd->pos;
		if (fn != NULL && fn(arg, rd->block + rd->pos, n) == -1)
			return -1;
		rd->pos += n;
		if (nl != NULL) {
			rd->pos++;
			rd->complete = 1;
			rd->rest = 0;
		}
	}
	return 0;
}

/*
 * The next line into rd->line, keeping at most EARLIER_LINE_MAX bytes of
 * it and leaving the rest for earlier_rest; 0 at the end of FILE, -1 on a
 * read error or no memory.
 */
static int
earlier_next(struct earlier *rd)
{
	const char	*nl;
	size_t		 n, k;
	int		 any = 0, got;

	if (earlier_rest(rd, NULL, NULL) == -1)
		return -1;
	buf_clear(&rd->line);
	rd->too_long = rd->complete = 0;
	for (;;) {
		if ((got = earlier_fill(rd)) <= 0)
			return got == -1 ? -1 : any;
		any = 1;
		nl = memchr(rd->block + rd->pos, '\n', rd->end - rd->pos);
		n = nl != NULL ? (size_t)(nl - rd->block) - rd->pos :
		    rd->end - rd->pos;
		k = EARLIER_LINE_MAX - rd->line.len;
		if (n > k) {
			/* Keep the head of a long line: it has what we need. */
			if (buf_append(&rd->line, rd->block + rd->pos, k) == -1)
				return -1;
			rd->pos += k;
			rd->too_long = rd->rest = 1;
			return 1;
		}
		if (buf_append(&rd->line, rd->block + rd->pos, n) == -1)
			return -1;
		rd->pos += n;
		if (nl != NULL) {
			rd->pos++;
			rd->complete = 1;
			return 1;
		}
	}
}

/*
 * Take the line rd holds: 1 when it is a record (in e), 0 when it is
 * nothing (an empty line, the framing of --format json), -1 when it is
 * not a record, -2 when out of memory.
 */
static int
earlier_take(struct earlier *rd, struct earlier_rec *e)
{
	const char	*line = rd->line.p;
	size_t		 len = rd->line.len;
	long		 q;
	int		 rc;

	/*
	 * --format json: "[" before the first record, "," before the
	 * others, "]" alone at the end ("[]" when there were none).
	 */
	if (len > 0 && (line[0] == '[' || line[0] == ',')) {
		line++;
		len--;
	}
	if (rd->too_long)
		return (rc = earlier_head(rd, line, len, e)) == 0 ? 1 : rc;
	if (len == 0 || (len == 1 && line[0] == ']') ||
	    (len == 2 && memcmp(line, "[]", 2) == 0))
		return 0;
	rc = earlier_line(rd, line, len, e);
	/*
	 * A run appended (>>) to a file a crash cut short glues its first
	 * record to the partial line: take the record after it.
	 */
	if (rc == -1 && (q = earlier_last_object(line, len)) > 0)
		rc = earlier_line(rd, line + q, len - (size_t)q, e);
	return rc == 0 ? 1 : rc;
}

/* Free the reader and close its file (never stdin). */
void
earlier_close(struct earlier *rd)
{
	if (rd == NULL)
		return;
	if (rd->f != NULL && rd->f != stdin)
		fclose(rd->f);
	buf_free(&rd->line);
	buf_free(&rd->url);
	buf_free(&rd->head);
	free(rd);
}

/* Open the earlier output at path ("-": stdin if spec->dash); NULL and why. */
struct earlier *
earlier_open(const char *path, const struct earlier_spec *spec, char *err,
    size_t errlen)
{
	struct earlier *rd;

	if ((rd = calloc(1, sizeof(*rd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rd->spec = spec;
	rd->path = path;
	if (spec->dash && strcmp(path, "-") == 0)
		rd->f = stdin;
	else if ((rd->f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open '%s': %s", spec->opt,
		    path, strerror(errno));
		earlier_close(rd);
		return NULL;
	}
	return rd;
}

/* The number of the line the last record came from, counting from 1. */
unsigned long
earlier_lineno(const struct earlier *rd)
{
	return rd->lineno;
}

/* The next record of FILE into e: 1, 0 at its end, -1 or -2 with a reason. */
int
earlier_pull(struct earlier *rd, struct earlier_rec *e, char *err,
    size_t errlen)
{
	int got, rc;

	errno = 0;
	while ((got = earlier_next(rd)) == 1) {
		rd->lineno++;
		if ((rc = earlier_take(rd, e)) == -2)
			goto nomem;
		if (rc == 1)
			return 1;
		if (rc == 0)
			continue;
		if (earlier_rest(rd, NULL, NULL) == -1)
			break;
		/* A crash can cut the last line short: that one is ignored. */
		if (rd->complete) {
			snprintf(err, errlen, "%s: '%s' line %lu is not a "
			    "record of gather's output", rd->spec->opt,
			    rd->path, rd->lineno);
			return -1;
		}
	}
	if (got == 0 && !ferror(rd->f))
		return 0;
	if (errno == ENOMEM)
		goto nomem;
	snprintf(err, errlen, "%s: cannot read '%s': %s", rd->spec->opt,
	    rd->path, strerror(errno != 0 ? errno : EIO));
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -2;
}

/*
 * Read the earlier output at path, handing each ok record to spec->fn;
 * -1 and a one-line reason when FILE cannot be used.
 */
int
earlier_read(const char *path, const struct earlier_spec *spec, char *err,
    size_t errlen)
{
	struct earlier		*rd;
	struct earlier_rec	 e;
	int			 rc;

	if ((rd = earlier_open(path, spec, err, errlen)) == NULL)
		return -1;
	while ((rc = earlier_pull(rd, &e, err, errlen)) == 1)
		if ((e.ok || spec->failed) &&
		    (rc = spec->fn(spec->arg, &e)) != 0)
			break;
	earlier_close(rd);
	if (rc == -2 || rc == 1)
		snprintf(err, errlen, "out of memory");
	return rc == 0 ? 0 : -1;
}
