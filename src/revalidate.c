/*
 * revalidate: reads an earlier output once (through earlier.c) and keeps,
 * for every ok record, 16 bytes: a 64-bit hash of its url, where its ETag
 * is in one arena of ETags, and its Last-Modified as seconds.  A record
 * without validators is kept too, with neither: the last record of a url
 * is what counts, and after one without validators nothing is sent.
 * An ETag takes its length and bytes in the arena; a date is made an HTTP
 * date again when sent.  The table is sorted by hash once; each input
 * record is then one binary search.
 */
#include "gather/revalidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "gather/buf.h"
#include "gather/earlier.h"
#include "gather/text.h"

/* Arena offsets are 32 bits; past this ETags are no longer kept. */
#define ARENA_MAX	((size_t)UINT32_MAX - REVALIDATE_ETAG_MAX - 2)

struct entry {
	uint64_t	hash;
	uint32_t	off;		/* its ETag's length and bytes */
	uint32_t	modified;	/* seconds since the epoch, 0: none */
};

struct revalidate {
	struct entry	*v;
	size_t		 n, cap;
	struct buf	 arena;		/* per entry: length (1-2 bytes), ETag */
	struct buf	 etag, date;	/* scratch while loading */
	struct buf	 fixed;		/* a url made valid UTF-8 */
};

/* An empty table. */
struct revalidate *
revalidate_new(void)
{
	return calloc(1, sizeof(struct revalidate));
}

/* Order entries by hash, then by place in FILE, for qsort. */
static int
revalidate_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Whether an ETag may be sent back as a header: printable ASCII only, so
 * that no FILE can add a line to a request, and not too long.
 */
static int
revalidate_etag_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > REVALIDATE_ETAG_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * Keep url's validators: an ETag (dropped when it cannot be sent) and a
 * date in seconds (0 for none), or neither; 0, or -2 when out of memory.  Every entry
 * takes at least its length byte, so offsets grow in FILE's order.
 */
int
revalidate_add(struct revalidate *rv, const char *url, size_t len,
    const char *etag, size_t etag_len, int64_t modified)
{
	struct entry	*e;
	unsigned char	 pre[2];
	size_t		 npre;

	if (etag != NULL && !revalidate_etag_ok(etag, etag_len))
		etag = NULL;
	if (modified <= 0 || modified > (int64_t)UINT32_MAX)
		modified = 0;
	if (etag == NULL)
		etag_len = 0;
	if (rv->arena.len > ARENA_MAX)
		return 0;
	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 1024;

		if ((e = realloc(rv->v, cap * sizeof(*e))) == NULL)
			return -2;
		rv->v = e;
		rv->cap = cap;
	}
	/* Lengths under 128 take one byte, the rest two. */
	npre = 0;
	if (etag_len >= 128)
		pre[npre++] = (unsigned char)(0x80 | (etag_len >> 8));
	pre[npre++] = (unsigned char)(etag_len & (etag_len >= 128 ? 0xff :
	    0x7f));
	e = &rv->v[rv->n];
	e->hash = text_hash(url, len, 0);
	e->off = (uint32_t)rv->arena.len;
	e->modified = (uint32_t)modified;
	if (buf_append(&rv->arena, pre, npre) == -1 ||
	    buf_append(&rv->arena, etag, etag_len) == -1)
		return -2;
	rv->n++;
	return 0;
}

/*
 * Sort the table once it is complete, without a second copy of it (glibc's
 * qsort would make one): entries go in place to 256 buckets by the top
 * byte of their hash, then each bucket, small as hashes are even, is
 * sorted alone.
 */
void
revalidate_seal(struct revalidate *rv)
{
	size_t		start[257], next[256], i;
	struct entry	t, u;
	unsigned	b;

	memset(start, 0, sizeof(start));
	for (i = 0; i < rv->n; i++)
		start[(rv->v[i].hash >> 56) + 1]++;
	for (b = 0; b < 256; b++) {
		start[b + 1] += start[b];
		next[b] = start[b];
	}
	/* Each entry is moved once, to the next free place of its bucket. */
	for (b = 0; b < 256; b++)
		while (next[b] < start[b + 1]) {
			t = rv->v[next[b]];
			while ((t.hash >> 56) != b) {
				u = rv->v[next[t.hash >> 56]];
				rv->v[next[t.hash >> 56]++] = t;
				t = u;
			}
			rv->v[next[b]++] = t;
		}
	for (b = 0; b < 256; b++)
		if (start[b + 1] - start[b] > 1)
			qsort(rv->v + start[b], start[b + 1] - start[b],
			    sizeof(*rv->v), revalidate_cmp);
}

/* The two digits at s, or -1. */
static int
revalidate_2(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), what servers send, as
 * seconds since the epoch, or -1: read here because curl_getdate() reads
 * it through sscanf, which was a fifth of the time of a load.
 */
int64_t
revalidate_parse_date(const char *s, size_t n)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char	*m;
	int		 d, mon, yh, yl, h, mi, sec;
	int64_t		 y, era, yoe, doy, doe;

	if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	for (m = months; *m != '\0' && memcmp(m, s + 8, 3) != 0; m += 3)
		;
	d = revalidate_2(s + 5);
	yh = revalidate_2(s + 12);
	yl = revalidate_2(s + 14);
	h = revalidate_2(s + 17);
	mi = revalidate_2(s + 20);
	sec = revalidate_2(s + 23);
	if (*m == '\0' || d < 1 || d > 31 || yh < 0 || yl < 0 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return -1;
	mon = (int)(m - months) / 3 + 1;
	/* Days from the civil date, counting years from March. */
	y = yh * 100 + yl - (mon <= 2);
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return ((era * 146097 + doe - 719468) * 24 + h) * 3600 + mi * 60 +
	    sec;
}

/* A JSON string member's text into b; 0, -1 when it is no string. */
static int
revalidate_string(struct buf *b, const struct json_span *v)
{
	buf_clear(b);
	if (v->p == NULL || v->p[0] != '"')
		return -1;
	return json_unescape(b, v->p, v->n) == -1 ? -2 : 0;
}

/* Keep one ok record of FILE, with or without validators. */
static int
revalidate_take(void *arg, const struct earlier_rec *r)
{
	struct revalidate	*rv = arg;
	const char		*etag = NULL;
	int64_t			 modified = 0;
	time_t			 t;
	int			 rc;

	if ((rc = revalidate_string(&rv->etag, &r->want[0])) == -2)
		return -2;
	if (rc == 0)
		etag = rv->etag.p;
	if ((rc = revalidate_string(&rv->date, &r->want[1])) == -2)
		return -2;
	/* A date curl cannot read is one we could not send back. */
	if (rc == 0 && (modified = revalidate_parse_date(rv->date.p,
	    rv->date.len)) == -1 && rv->date.len < REVALIDATE_DATE_LEN * 2 &&
	    strlen(rv->date.p) == rv->date.len &&
	    (t = curl_getdate(rv->date.p, NULL)) > 0)
		modified = (int64_t)t;
	return revalidate_add(rv, r->url, r->url_len, etag,
	    etag ? rv->etag.len : 0, modified);
}

/*
 * Load the n files at paths into one table, in order, so that a URL's
 * last record in the last file that has it wins; NULL and a one-line
 * reason when one cannot be used.
 */
struct revalidate *
revalidate_load(char *const *paths, size_t n, char *err, size_t errlen)
{
	struct revalidate *rv;
	size_t		   i;

	if ((rv = revalidate_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* gather writes "etag" and "last_modified" before "size". */
	for (i = 0; i < n; i++)
		if (earlier_read(paths[i], &(struct earlier_spec){
		    .opt = "--revalidate", .cut = "\"size\"",
		    .want = { "\"etag\"", "\"last_modified\"" },
		    .fn = revalidate_take, .arg = rv }, err, errlen) == -1) {
			revalidate_free(rv);
			return NULL;
		}
	buf_free(&rv->etag);
	buf_free(&rv->date);
	revalidate_seal(rv);
	return rv;
}

/*
 * What FILE has for url (as written out: made valid UTF-8), the last of
 * its records for that url; 1 when it has validators, else 0.
 */
int
revalidate_find(struct revalidate *rv, const char *url, size_t len,
    struct validators *out)
{
	const unsigned char	*a;
	const struct entry	*e;
	size_t			 lo = 0, hi = rv->n, mid;
	uint64_t		 hash;

	if (!utf8_valid((const unsigned char *)url, len)) {
		buf_clear(&rv->fixed);
		if (utf8_repair(&rv->fixed, (const unsigned char *)url, len) ==
		    -1)
			return 0;
		url = rv->fixed.p;
		len = rv->fixed.len;
	}
	hash = text_hash(url, len, 0);
	/* The first entry past hash; the one before it is the last for it. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rv->v[mid].hash <= hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || rv->v[lo - 1].hash != hash)
		return 0;
	e = &rv->v[lo - 1];
	a = (const unsigned char *)rv->arena.p + e->off;
	out->etag_len = a[0] & 0x80 ? (size_t)(a[0] & 0x7f) << 8 | a[1] : a[0];
	out->etag = out->etag_len == 0 ? NULL :
	    (const char *)a + (a[0] & 0x80 ? 2 : 1);
	out->modified = e->modified;
	return out->etag != NULL || out->modified != 0;
}

/* t as an HTTP date (IMF-fixdate) into buf; its length. */
size_t
revalidate_date(char *buf, int64_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t		tt = (time_t)t;
	struct tm	tm;
	int		n;

	if (gmtime_r(&tt, &tm) == NULL)
		return 0;
	/* By hand: strftime's names follow the locale. */
	n = snprintf(buf, REVALIDATE_DATE_LEN,
	    "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", days + 3 * tm.tm_wday,
	    tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return n > 0 && n < REVALIDATE_DATE_LEN ? (size_t)n : 0;
}

/* Free the table. */
void
revalidate_free(struct revalidate *rv)
{
	if (rv == NULL)
		return;
	free(rv->v);
	buf_free(&rv->arena);
	buf_free(&rv->etag);
	buf_free(&rv->date);
	buf_free(&rv->fixed);
	free(rv);
}
