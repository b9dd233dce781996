/*
 * resume: reads an earlier run's output once, keeping for every ok record
 * only its index and a 64-bit hash of its url (16 bytes each), sorted by
 * index.  Input arrives in index order, so a cursor walks the array and
 * each check is O(1) amortised.
 *
 * FILE is read a block at a time and no line is kept past RESUME_LINE_MAX
 * bytes, each line is parsed once or twice, and finding a record glued to
 * a cut line is one backward pass: the whole load is linear in the size of
 * FILE and its memory is the table plus one line.
 */
#include "gather/resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/json.h"
#include "gather/text.h"

/* Only this much of a line is kept: memory per line stays bounded. */
#define RESUME_LINE_MAX	(1024 * 1024)

struct done {
	uint64_t	index;
	uint64_t	hash;
};

struct resume {
	struct done	*v;
	size_t		 n, cap;
	size_t		 cursor;
	struct buf	 fixed;		/* a url made valid UTF-8 */
	struct buf	 url;		/* a url of FILE, unescaped */
	struct buf	 head;		/* the head of a long line, closed */
};

/* FILE read in blocks, one line at a time. */
struct reader {
	FILE		*f;
	char		 block[65536];
	size_t		 pos, end;
	struct buf	 line;
	int		 too_long;	/* the line was over RESUME_LINE_MAX */
	int		 complete;	/* the line ended with a newline */
};

/* Order done entries by index, for qsort. */
static int
resume_cmp(const void *a, const void *b)
{
	const struct done *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * An index as gather writes it: decimal digits without a sign, fraction,
 * exponent or leading zero, within uint64.  0 when it is one.
 */
int
resume_parse_index(const char *s, size_t n, uint64_t *out)
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
resume_last_object(const char *line, size_t len)
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
resume_is(const struct json_span *k, const char *q)
{
	return k->n == strlen(q) && memcmp(k->p, q, k->n) == 0;
}

/*
 * Take one line of FILE; -1 when it is not a record of ours.  The line
 * must be strict JSON (the same check as request objects), and the index
 * is read from its text, never through a double.
 */
static int
resume_line(struct resume *rs, const char *line, size_t len)
{
	struct json_span k, v, idx = { NULL, 0 }, url = { NULL, 0 },
			 ok = { NULL, 0 };
	size_t		 pos = 0;
	uint64_t	 index;
	struct done	*d;

	while (len > 0 && (*line == ' ' || *line == '\t' || *line == '\r')) {
		line++;
		len--;
	}
	if (len == 0 || line[0] != '{' || !json_valid(line, len))
		return -1;
	while (json_next(line, len, &pos, &k, &v) == 0) {
		if (resume_is(&k, "\"index\""))
			idx = v;
		else if (resume_is(&k, "\"url\""))
			url = v;
		else if (resume_is(&k, "\"ok\""))
			ok = v;
	}
	if (idx.p == NULL || resume_parse_index(idx.p, idx.n, &index) == -1 ||
	    url.p == NULL || url.p[0] != '"' || ok.p == NULL ||
	    (!(ok.n == 4 && memcmp(ok.p, "true", 4) == 0) &&
	    !(ok.n == 5 && memcmp(ok.p, "false", 5) == 0)))
		return -1;
	if (ok.n == 5)
		return 0;
	buf_clear(&rs->url);
	if (json_unescape(&rs->url, url.p, url.n) == -1)
		return -2;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 1024;

		if ((d = realloc(rs->v, cap * sizeof(*d))) == NULL)
			return -2;
		rs->v = d;
		rs->cap = cap;
	}
	rs->v[rs->n].index = index;
	rs->v[rs->n].hash = text_hash(rs->url.p, rs->url.len, 0);
	rs->n++;
	return 0;
}

/*
 * A line over RESUME_LINE_MAX is a record with a large body or id: only
 * its head was kept.  gather writes "index", "url", "id" and "ok" before
 * "status" and the rest, so the head up to "status" at the top level,
 * closed with a brace, is a record of its own; -1 when there is none.
 */
static int
resume_head(struct resume *rs, const char *line, size_t len)
{
	static const char	 cut[] = ",\"status\":";
	size_t			 i, depth = 0;
	int			 str = 0;

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
		else if (depth == 1 && len - i >= sizeof(cut) - 1 &&
		    memcmp(line + i, cut, sizeof(cut) - 1) == 0) {
			buf_clear(&rs->head);
			if (buf_append(&rs->head, line, i) == -1 ||
			    buf_append(&rs->head, "}", 1) == -1)
				return -2;
			return resume_line(rs, rs->head.p, rs->head.len);
		}
	}
	return -1;
}

/*
 * The next line into rd->line, keeping at most RESUME_LINE_MAX bytes of
 * it; 0 at the end of FILE, -1 on a read error or no memory.
 */
static int
resume_read(struct reader *rd)
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
			k = RESUME_LINE_MAX - rd->line.len;
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
resume_take(struct resume *rs, const struct reader *rd)
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
		return resume_head(rs, line, len);
	if (len == 0 || (len == 1 && line[0] == ']'))
		return 0;
	rc = resume_line(rs, line, len);
	/*
	 * A run appended (>>) to a file a crash cut short glues its first
	 * record to the partial line: take the record after it.
	 */
	if (rc == -1 && (q = resume_last_object(line, len)) > 0)
		rc = resume_line(rs, line + q, len - (size_t)q);
	return rc;
}

/* Load FILE; NULL and a one-line reason when it cannot be used. */
struct resume *
resume_load(const char *path, char *err, size_t errlen)
{
	struct resume	*rs = NULL;
	struct reader	*rd;
	unsigned long	 lineno = 0;
	int		 rc, got;

	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		goto nomem;
	if ((rd->f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "--resume: cannot open '%s': %s", path,
		    strerror(errno));
		free(rd);
		return NULL;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		goto nomem;
	errno = 0;
	while ((got = resume_read(rd)) == 1) {
		lineno++;
		if ((rc = resume_take(rs, rd)) == -2)
			goto nomem;
		/* A crash can cut the last line short: that one is ignored. */
		if (rc == -1 && rd->complete) {
			snprintf(err, errlen, "--resume: '%s' line %lu is not a "
			    "record of gather's output", path, lineno);
			goto fail;
		}
	}
	if (got == -1 && errno == ENOMEM)
		goto nomem;
	if (got == -1) {
		snprintf(err, errlen, "--resume: cannot read '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	fclose(rd->f);
	buf_free(&rd->line);
	free(rd);
	/* qsort() wants a real array, even of nothing. */
	if (rs->n > 1)
		qsort(rs->v, rs->n, sizeof(*rs->v), resume_cmp);
	return rs;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	if (rd != NULL) {
		if (rd->f != NULL)
			fclose(rd->f);
		buf_free(&rd->line);
		free(rd);
	}
	resume_free(rs);
	return NULL;
}

/* What to do with the record at index whose url is url. */
enum resume_verdict
resume_check(struct resume *rs, uint64_t index, const char *url, size_t len)
{
	size_t		lo, hi, mid;
	uint64_t	hash;

	/* In-order input moves the cursor forward; otherwise search. */
	if (rs->cursor > 0 && rs->cursor <= rs->n &&
	    rs->v[rs->cursor - 1].index > index)
		rs->cursor = 0;
	if (rs->cursor < rs->n && rs->v[rs->cursor].index < index) {
		lo = rs->cursor;
		hi = rs->n;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (rs->v[mid].index < index)
				lo = mid + 1;
			else
				hi = mid;
		}
		rs->cursor = lo;
	}
	if (rs->cursor >= rs->n || rs->v[rs->cursor].index != index)
		return RESUME_RUN;
	/* FILE has the url as written out: made valid UTF-8. */
	if (!utf8_valid((const unsigned char *)url, len)) {
		buf_clear(&rs->fixed);
		if (utf8_repair(&rs->fixed, (const unsigned char *)url, len) ==
		    -1)
			return RESUME_RUN;
		url = rs->fixed.p;
		len = rs->fixed.len;
	}
	hash = text_hash(url, len, 0);
	for (; rs->cursor < rs->n && rs->v[rs->cursor].index == index;
	    rs->cursor++)
		if (rs->v[rs->cursor].hash == hash)
			return RESUME_SKIP;
	return RESUME_CHANGED;
}

/* Free the index. */
void
resume_free(struct resume *rs)
{
	if (rs == NULL)
		return;
	free(rs->v);
	buf_free(&rs->fixed);
	buf_free(&rs->url);
	buf_free(&rs->head);
	free(rs);
}
