/*
 * resume: reads an earlier run's jsonl output once, keeping for every ok
 * record only its index and a 64-bit hash of its url (16 bytes each),
 * sorted by index.  Input arrives in index order, so a cursor walks the
 * array and each check is O(1) amortised.
 */
#include "gather/resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gather/util.h"


struct done {
	uint64_t	index;
	uint64_t	hash;
};

struct resume {
	struct done	*v;
	size_t		 n, cap;
	size_t		 cursor;
	struct buf	 fixed;		/* a url made valid UTF-8 */
};

static uint64_t
resume_hash(const char *s, size_t n)
{
	uint64_t	h = 1469598103934665603ULL;
	size_t		i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int
resume_cmp(const void *a, const void *b)
{
	const struct done *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* Take one line of FILE; -1 when it is not a record of ours. */
static int
resume_line(struct resume *rs, const char *line, size_t len)
{
	cJSON		*o, *index, *url, *ok;
	struct done	*v;
	int		 rc = -1;

	if ((o = cJSON_ParseWithLength(line, len)) == NULL)
		return -1;
	index = cJSON_GetObjectItemCaseSensitive(o, "index");
	url = cJSON_GetObjectItemCaseSensitive(o, "url");
	ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
	if (cJSON_IsNumber(index) && index->valuedouble >= 0 &&
	    cJSON_IsString(url) && cJSON_IsBool(ok)) {
		rc = 0;
		if (cJSON_IsTrue(ok)) {
			if (rs->n == rs->cap) {
				size_t cap = rs->cap ? rs->cap * 2 : 1024;
				if ((v = realloc(rs->v, cap * sizeof(*v))) ==
				    NULL) {
					cJSON_Delete(o);
					return -2;
				}
				rs->v = v;
				rs->cap = cap;
			}
			rs->v[rs->n].index = (uint64_t)index->valuedouble;
			rs->v[rs->n].hash = resume_hash(url->valuestring,
			    strlen(url->valuestring));
			rs->n++;
		}
	}
	cJSON_Delete(o);
	return rc;
}

/* The next place after p[0] where a record could start, or NULL. */
static const char *
resume_glued(const char *p, size_t len)
{
	static const char head[] = "{\"index\":";
	const char *q;

	for (q = p + 1; q + sizeof(head) - 1 <= p + len; q++)
		if (memcmp(q, head, sizeof(head) - 1) == 0)
			return q;
	return NULL;
}

/* Load FILE; NULL and a one-line reason when it cannot be used. */
struct resume *
resume_load(const char *path, char *err, size_t errlen)
{
	struct resume	*rs;
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	unsigned long	 lineno = 0;
	const char	*q;
	int		 rc, complete;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "--resume: cannot open '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		goto nomem;
	errno = 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		complete = line[len - 1] == '\n';
		if (complete)
			len--;
		if (len == 0)
			continue;
		rc = resume_line(rs, line, (size_t)len);
		/*
		 * A run appended (>>) to a file a crash cut short glues its
		 * first record to the partial line: take the record after it.
		 */
		for (q = line; rc == -1 &&
		    (q = resume_glued(q, (size_t)(line + len - q))) != NULL; )
			rc = resume_line(rs, q, (size_t)(line + len - q));
		if (rc == -2)
			goto nomem;
		/* A crash can cut the last line short: that one is ignored. */
		if (rc == -1 && complete) {
			snprintf(err, errlen, "--resume: '%s' line %lu is not a "
			    "record of gather's jsonl output", path, lineno);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "--resume: cannot read '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	fclose(f);
	free(line);
	qsort(rs->v, rs->n, sizeof(*rs->v), resume_cmp);
	return rs;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	fclose(f);
	free(line);
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
	hash = resume_hash(url, len);
	for (; rs->cursor < rs->n && rs->v[rs->cursor].index == index;
	    rs->cursor++)
		if (rs->v[rs->cursor].hash == hash)
			return RESUME_SKIP;
	return RESUME_CHANGED;
}

void
resume_free(struct resume *rs)
{
	if (rs == NULL)
		return;
	free(rs->v);
	buf_free(&rs->fixed);
	free(rs);
}
