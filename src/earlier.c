/*
 * earlier: the reader of an earlier run's output behind --resume and
 * --revalidate.  FILE is read a block at a time and no line is kept past
 * EARLIER_LINE_MAX bytes, each line is parsed once or twice, and finding a
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
struct reader {
	const struct earlier_spec *spec;
	FILE		*f;
	char		 block[65536];
	size_t		 pos, end;
	struct buf	 line;
	struct buf	 url;		/* a url of FILE, unescaped */
	struct buf	 head;		/* the head of a long line, closed */
	int		 too_long;	/* the line was over EARLIER_LINE_MAX */
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

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
	    line[len - 1] == '\r'))
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
 * Take one line of FILE; -1 when it is not a record of ours.  The line
 * must be strict JSON (the same check as request objects), and the index
 * is read from its text, never through a double.
 */
static int
earlier_line(struct reader *rd, const char *line, size_t len)
{
	const struct earlier_spec *sp = rd->spec;
	struct json_span k, v, idx = { NULL, 0 }, url = { NULL, 0 },
			 ok = { NULL, 0 };
	struct earlier_rec e;
	size_t		 pos = 0, i;

	while (len > 0 && (*line == ' ' || *line == '\t' || *line == '\r')) {
		line++;
		len--;
	}
	if (len == 0 || line[0] != '{' || !json_valid(line, len))
		return -1;
	memset(&e, 0, sizeof(e));
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
					e.want[i] = v;
	}
	if (idx.p == NULL || earlier_parse_index(idx.p, idx.n, &e.index) ==
	    -1 || url.p == NULL || url.p[0] != '"' || ok.p == NULL ||
	    (!(ok.n == 4 && memcmp(ok.p, "true", 4) == 0) &&
	    !(ok.n == 5 && memcmp(ok.p, "false", 5) == 0)))
		return -1;
	e.ok = ok.n == 4;
	if (!e.ok && !sp->failed)
		return 0;
	buf_clear(&rd->url);
	if (json_unescape(&rd->url, url.p, url.n) == -1)
		return -2;
	e.url = rd->url.p;
	e.url_len = rd->url.len;
	return sp->fn(sp->arg, &e);
}

/*
 * A line over EARLIER_LINE_MAX is a record with a large body or id: only
 * its head was kept.  gather writes the members a reader needs first, so
 * the head up to the member spec->cut at the top level, closed with a
 * brace, is a record of its own; -1 when there is none.
 */
static int
earlier_head(struct reader *rd, const char *line, size_t len)
{
	size_t	i, depth = 0, clen;
	int	str = 0;
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
			return earlier_line(rd, rd->head.p, rd->head.len);
		}
	}
	return -1;
}

/*
 * The next line into rd->line, keeping at most EARLIER_LINE_MAX bytes of
 * it; 0 at the end of FILE, -1 on a read error or no memory.
 */
static int
earlier_next(struct reader *rd)
{
	const char	*nl;
	size_t		 n, k;
	int		 any = 0;

	buf_clear(&rd->line);
	rd->too_long = rd->complete = 0;
	for (;;) {
		if (rd->pos == rd->end) {
			rd->pos = 0;
			rd->end = fread(rd->block, 1, sizeof(rd->block), rd->f);
			if (rd->end == 0)
				return ferror(rd->f) ? -1 : any;
		}
		any = 1;
		nl = memchr(rd->block + rd->pos, '\n', rd->end - rd->pos);
		n = nl != NULL ? (size_t)(nl - rd->block) - rd->pos :
		    rd->end - rd->pos;
		if (!rd->too_long) {
			/* Keep the head of a long line: it has what we need. */
			k = EARLIER_LINE_MAX - rd->line.len;
			if (n > k)
				rd->too_long = 1;
			if (buf_append(&rd->line, rd->block + rd->pos,
			    n < k ? n : k) == -1)
				return -1;
		}
		rd->pos += n;
		if (nl != NULL) {
			rd->pos++;
			rd->complete = 1;
			return 1;
		}
	}
}

/*
 * Take the line rd holds: 0 when it is a record or nothing (an empty line,
 * the framing of --format json), -1 when it is not a record, -2 when out
 * of memory.
 */
static int
earlier_take(struct reader *rd)
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
		return earlier_head(rd, line, len);
	if (len == 0 || (len == 1 && line[0] == ']'))
		return 0;
	rc = earlier_line(rd, line, len);
	/*
	 * A run appended (>>) to a file a crash cut short glues its first
	 * record to the partial line: take the record after it.
	 */
	if (rc == -1 && (q = earlier_last_object(line, len)) > 0)
		rc = earlier_line(rd, line + q, len - (size_t)q);
	return rc;
}

/* Free the reader and close its file. */
static void
earlier_close(struct reader *rd)
{
	if (rd->f != NULL)
		fclose(rd->f);
	buf_free(&rd->line);
	buf_free(&rd->url);
	buf_free(&rd->head);
	free(rd);
}

/*
 * Read the earlier output at path, handing each ok record to spec->fn;
 * -1 and a one-line reason when FILE cannot be used.
 */
int
earlier_read(const char *path, const struct earlier_spec *spec, char *err,
    size_t errlen)
{
	struct reader	*rd;
	unsigned long	 lineno = 0;
	int		 rc = 0, got;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		goto nomem;
	rd->spec = spec;
	if ((rd->f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open '%s': %s", spec->opt,
		    path, strerror(errno));
		earlier_close(rd);
		return -1;
	}
	errno = 0;
	while ((got = earlier_next(rd)) == 1) {
		lineno++;
		if ((rc = earlier_take(rd)) == -2)
			goto nomem;
		/* A crash can cut the last line short: that one is ignored. */
		if (rc == -1 && rd->complete) {
			snprintf(err, errlen, "%s: '%s' line %lu is not a "
			    "record of gather's output", spec->opt, path,
			    lineno);
			earlier_close(rd);
			return -1;
		}
	}
	if (got == -1 && errno != ENOMEM) {
		snprintf(err, errlen, "%s: cannot read '%s': %s", spec->opt,
		    path, strerror(errno));
		earlier_close(rd);
		return -1;
	}
	if (got != -1) {
		earlier_close(rd);
		return 0;
	}
nomem:
	snprintf(err, errlen, "out of memory");
	if (rd != NULL)
		earlier_close(rd);
	return -1;
}
