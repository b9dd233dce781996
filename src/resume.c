/*
 * resume: reads earlier runs' outputs once, in the order given, keeping
 * for every record only its index, a 64-bit hash of its url, its place in
 * the reading and whether it was ok (24 bytes each).  Sorted by index and
 * place, only the last record of each index is kept, and only when it is
 * ok: a later run's failure undoes an earlier success.  Input arrives in
 * index order, so a cursor walks the array and each check is O(1)
 * amortised.
 *
 * Each FILE is read by earlier.c, linear in its size with one line's
 * memory: the load's memory is the table plus that line.
 */
#include "gather/resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/earlier.h"
#include "gather/text.h"

struct done {
	uint64_t	index;
	uint64_t	hash;
	uint32_t	seq;		/* place in the reading, for "last wins" */
	uint32_t	ok;
};

struct resume {
	struct done	*v;
	size_t		 n, cap;
	size_t		 cursor;
	struct buf	 fixed;		/* a url made valid UTF-8 */
};

/* Order done entries by index, then by place in the reading, for qsort. */
static int
resume_cmp(const void *a, const void *b)
{
	const struct done *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Keep, of each index, only its last record, and that only when ok. */
static void
resume_last(struct resume *rs)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++)
		if ((i + 1 == rs->n || rs->v[i + 1].index != rs->v[i].index) &&
		    rs->v[i].ok)
			rs->v[n++] = rs->v[i];
	rs->n = n;
}

/* Keep one record of FILE: its index, its url's hash, whether ok. */
static int
resume_add(void *arg, const struct earlier_rec *e)
{
	struct resume	*rs = arg;
	struct done	*d;

	if (rs->n == UINT32_MAX)
		return -2;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 1024;

		if ((d = realloc(rs->v, cap * sizeof(*d))) == NULL)
			return -2;
		rs->v = d;
		rs->cap = cap;
	}
	rs->v[rs->n].index = e->index;
	rs->v[rs->n].hash = text_hash(e->url, e->url_len, 0);
	rs->v[rs->n].seq = (uint32_t)rs->n;
	rs->v[rs->n].ok = (uint32_t)e->ok;
	rs->n++;
	return 0;
}

/*
 * Load the n files at paths, in order; NULL and a one-line reason when
 * one cannot be used.
 */
struct resume *
resume_load(char *const *paths, size_t n, char *err, size_t errlen)
{
	struct resume	*rs;
	size_t		 i;

	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/*
	 * gather writes "index", "url", "id" and "ok" before "status": the
	 * head of a long line up to "status" is all that is needed.
	 */
	for (i = 0; i < n; i++)
		if (earlier_read(paths[i], &(struct earlier_spec){
		    .opt = "--resume", .cut = "\"status\"", .fn = resume_add,
		    .arg = rs, .failed = 1 }, err, errlen) == -1) {
			resume_free(rs);
			return NULL;
		}
	/* qsort() wants a real array, even of nothing. */
	if (rs->n > 1)
		qsort(rs->v, rs->n, sizeof(*rs->v), resume_cmp);
	resume_last(rs);
	return rs;
}

/*
 * What to do with the record at index whose url is url; url NULL when
 * it is not known (memory ran out reading it): done when the index is.
 */
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
	if (url == NULL)
		return RESUME_SKIP;
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
	free(rs);
}
