/*
 * part: the life of -o's NAME.part in one transfer.  It is opened before
 * the request (continued with Range and If-Range when it holds bytes) or,
 * under --revalidate, late at the first body byte; the status decides at
 * that byte whether the body is written at all; when the transfer ends
 * the part is judged whole, stale or broken; and once the record's
 * verdict is in, part_settle makes it NAME or keeps or drops it.
 * Starting a part over (truncate, rewind, rehash) is part_restart's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "xfer_int.h"

/*
 * Start NAME.part over: truncate it, rewind it and start the digests
 * again; -1 with errno on a file error, -2 when out of memory.
 */
static int
part_restart(struct xfer *x)
{
	if (files_discard(&x->part) == -1)
		return -1;
	return digest_init(x) == -1 ? -2 : 0;
}

/*
 * The validator If-Range may send for what this response is: a strong
 * ETag, else Last-Modified; none unless the server takes byte ranges.
 */
static int
part_validator(struct xfer *x, struct buf *v)
{
	struct curl_header *h;

	if (curl_easy_header(x->easy, "Accept-Ranges", 0, CURLH_HEADER, -1,
	    &h) != CURLHE_OK || strcasecmp(h->value, "bytes") != 0)
		return -1;
	/* RFC 9110 13.1.5: If-Range compares only strong validators. */
	if (curl_easy_header(x->easy, "ETag", 0, CURLH_HEADER, -1, &h) ==
	    CURLHE_OK && strncmp(h->value, "W/", 2) != 0 &&
	    files_validator_ok(h->value, strlen(h->value)))
		return buf_set(v, h->value, strlen(h->value));
	if (curl_easy_header(x->easy, "Last-Modified", 0, CURLH_HEADER, -1,
	    &h) == CURLHE_OK && files_validator_ok(h->value, strlen(h->value)))
		return buf_set(v, h->value, strlen(h->value));
	return -1;
}

/* Whether the final response's header name has the value v. */
static int
part_header_is(struct xfer *x, const char *name, const struct buf *v)
{
	struct curl_header *h;

	return curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) ==
	    CURLHE_OK && strlen(h->value) == v->len &&
	    memcmp(h->value, v->p, v->len) == 0;
}

/*
 * Whether a 206 is the answer to the Range sent: it starts where the
 * part ends and runs to the total it gives, with the part's validator, a
 * Content-Length of the range's and no content coding (the range counts
 * the bytes the part holds).  When not, io_msg says why.
 */
static int
part_range_ok(struct xfer *x)
{
	struct curl_header	*h;
	const struct buf	*v = &x->rec->save.validator;
	struct part		*pt = &x->part;
	unsigned long long	 s, e, t;
	curl_off_t		 cl = -1;
	char			 c;
	const char		*why = NULL;

	if (pt->have == 0)
		why = "a 206 response to a request without Range";
	else if (curl_easy_header(x->easy, "Content-Range", 0, CURLH_HEADER,
	    -1, &h) != CURLHE_OK || sscanf(h->value, "bytes %llu-%llu/%llu%c",
	    &s, &e, &t, &c) != 3)
		why = "the 206 response has no Content-Range with a total";
	else if (s != pt->have) {
		snprintf(x->io_msg, XFER_IO_MSG, "the 206 response does "
		    "not start at byte %llu, where '%s.part' ends",
		    (unsigned long long)pt->have, x->rec->save.file.p);
		return 0;
	} else if (e < s || e + 1 != t)
		why = "the 206 response's range does not run to its total";
	else if (curl_easy_header(x->easy, "Content-Encoding", 0,
	    CURLH_HEADER, -1, &h) == CURLHE_OK &&
	    strcasecmp(h->value, "identity") != 0)
		why = "the 206 response is content-encoded";
	else if (!part_header_is(x, v->p[0] == '"' ? "ETag" : "Last-Modified",
	    v))
		why = "the 206 response's validator is not the part's";
	else if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
	    &cl) == CURLE_OK && cl >= 0 && (unsigned long long)cl != e - s + 1)
		why = "the 206 response's Content-Length is not its range's";
	if (why != NULL) {
		snprintf(x->io_msg, XFER_IO_MSG, "%s: '%s.part' is "
		    "discarded", why, x->rec->save.file.p);
		return 0;
	}
	x->range_len = e - s + 1;
	return 1;
}

/*
 * -o: the status decides before a byte is written whether the body
 * becomes a file (2xx only); a 200 to a Range starts the file afresh, a
 * 206 must be the answer to the Range sent.  -1 aborts the transfer.
 */
int
part_body_start(struct xfer *x)
{
	struct part		*pt = &x->part;
	long			 code = 0;
	int			 rc;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		x->skip = 1;
		return 0;
	}
	if (code == 206) {
		if (!part_range_ok(x)) {
			x->bad_range = 1;
			x->continuable = 0;
			return -1;
		}
		return 0;
	}
	/* The server sent the whole file: what was kept is stale. */
	if (pt->have > 0 && (rc = part_restart(x)) < 0) {
		if (rc == -1)
			x->io_errno = errno;
		return -1;
	}
	x->continuable = part_validator(x, &x->rec->save.validator) == 0;
	files_mark(pt, x->continuable ? x->rec->save.validator.p : NULL,
	    x->continuable ? x->rec->save.validator.len : 0);
	return 0;
}

/*
 * --revalidate under -o: the answer is not a 304, so NAME.part is opened
 * now, to become NAME as any other body; a retry after this asks plainly.
 * No Range was asked, so a part left before starts afresh.  -1 when it
 * cannot be opened.
 */
int
part_open_late(struct xfer *x)
{
	int rc;

	x->open_late = 0;
	memset(&x->rec->req.was, 0, sizeof(x->rec->req.was));
	if (files_open(x->pool->files, x->rec, &x->part, x->io_msg,
	    XFER_IO_MSG) == -1) {
		x->open_failed = 1;
		return -1;
	}
	if (x->part.have > 0 && (rc = part_restart(x)) < 0) {
		if (rc == -1)
			x->io_errno = errno;
		return -1;
	}
	return 0;
}

/*
 * -o: open NAME.part; when it continues, ask for the rest with Range and
 * If-Range (a changed file comes whole, as a 200) and without
 * compression, since the range counts the bytes the part holds.
 */
int
part_open(struct xfer *x, struct rec *r)
{
	const struct buf	*v = &r->save.validator;
	char			 line[64], hdr[1100];

	if (files_open(x->pool->files, r, &x->part, x->io_msg,
	    XFER_IO_MSG) == -1) {
		rec_fail(r, rec_io_kind(x->io_msg), "%s", x->io_msg);
		return -1;
	}
	x->continuable = x->part.have > 0;
	if (x->part.have == 0)
		return 0;
	if (x->mds && digest_part(x) == -1) {
		rec_fail(r, ERR_IO, "cannot read '%s.part': %s", r->save.file.p,
		    strerror(errno ? errno : EIO));
		return -1;
	}
	snprintf(line, sizeof(line), "%llu-",
	    (unsigned long long)x->part.have);
	curl_easy_setopt(x->easy, CURLOPT_RANGE, line);
	/* The rest of the bytes as they are: no coding asked for or undone. */
	curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, NULL);
	/* files_open read it back from the part and checked it. */
	snprintf(hdr, sizeof(hdr), "If-Range: %.*s", (int)v->len, v->p);
	if ((x->pool->ae[0] != '\0' &&
	    request_drop_header(x, x->pool->ae) == -1) ||
	    request_append_header(x, hdr) == -1 ||
	    /* For another origin: the pool's bare list, the same way. */
	    xfer_list_copy(&x->bare_range, x->pool->bare, x->pool->ae) == -1 ||
	    xfer_list_add(&x->bare_range, hdr) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * -o with --revalidate: a NAME an earlier run left is kept until the
 * first body byte, which a 304 never sends, and only then is NAME.part
 * opened (part_open_late).  A NAME that is not there is fetched plainly,
 * as is one the first process of a -j run found no file for.
 */
int
part_file(struct xfer *x, struct rec *r)
{
	int rc;

	if (r->req.was.etag == NULL && r->req.was.modified == 0)
		return 0;
	/* -j: the first process looked, and found no file of this URL's. */
	if (r->save.claimed == CLAIM_NAME) {
		memset(&r->req.was, 0, sizeof(r->req.was));
		return 0;
	}
	if ((rc = files_existing(x->pool->files, r)) == 1) {
		x->open_late = 1;
		return 0;
	}
	if (rc == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	memset(&r->req.was, 0, sizeof(r->req.was));
	return 0;
}

/* Whether a 416 says that NAME.part already is the whole file. */
static int
part_whole(struct xfer *x)
{
	struct curl_header	*h;
	unsigned long long	 total;

	return x->part.have > 0 && x->rec->res.status == 416 &&
	    curl_easy_header(x->easy, "Content-Range", 0, CURLH_HEADER, -1,
	    &h) == CURLHE_OK && sscanf(h->value, "bytes */%llu", &total) == 1 &&
	    total == x->part.have;
}

/*
 * -o: whether the record names a file at all: a response that is not
 * 2xx names none, nor does a 206 that was not the range asked for; a
 * broken one does.  Known when the transfer ends, so that --expect sees
 * the record's file as it will be printed when it passes.
 */
static void
part_name_file(struct xfer *x, struct rec *r)
{
	r->save.no_file = (r->res.status > 0 && (r->res.status < 200 ||
	    r->res.status > 299) && !r->save.part_whole) || x->bad_range;
}

/*
 * -o, once the record's verdict is in (its --expect included): NAME.part
 * becomes NAME when the record is ok with a 2xx body; otherwise it is
 * removed, unless it can be continued, whatever ended the attempt (an
 * error status included): a wrong checksum, a 206 that was not the range
 * asked for and a 416 say that its bytes are bad.  A record that failed
 * its expectation names no file.  Does nothing twice, nor for a transfer
 * that xfer_finish did not end.
 */
void
part_settle(struct xfer *x)
{
	struct files	*f = x->pool->files;
	struct rec	*r = x->rec;
	int		 keep;

	if (!x->unsettled)
		return;
	x->unsettled = 0;
	if (r->res.kind == ERR_NONE && !r->save.no_file && r->res.status > 0) {
		if (files_commit(f, &x->part, r, x->io_msg,
		    XFER_IO_MSG) == -1)
			rec_fail(r, rec_io_kind(x->io_msg), "%s", x->io_msg);
		files_close(f, &x->part, r, r->res.kind == ERR_NONE);
		return;
	}
	if (r->res.kind == ERR_EXPECTATION)
		r->save.no_file = 1;
	keep = x->continuable && !x->bad_range && r->res.kind != ERR_CHECKSUM &&
	    r->res.status != 416;
	files_close(f, &x->part, r, keep);
	r->save.part_kept = keep;
}

/* -o: write body bytes to NAME.part; -1 with io_errno set on failure. */
int
part_write(struct xfer *x, const char *data, size_t n)
{
	size_t	done;
	ssize_t	k;

	for (done = 0; done < n; done += (size_t)k) {
		k = write(x->part.fd, data + done, n - done);
		if (k == -1 && errno == EINTR)
			k = 0;
		else if (k == -1) {
			x->io_errno = errno;
			return -1;
		}
	}
	return 0;
}

/*
 * -o, when the transfer ends: a 416 may say the part is already whole; a
 * whole answer with no body at all makes the part stale; whether the
 * record names a file is known.  The part then waits for part_settle.
 */
void
part_finish(struct xfer *x)
{
	struct rec	*r = x->rec;
	int		 k;

	if (x->part.fd != -1 && r->res.kind == ERR_NONE &&
	    (r->save.part_whole = part_whole(x))) {
		r->res.size = x->part.have;
		x->skip = 0;
	} else if (x->part.have > 0 && !x->started && r->res.status >= 200 &&
	    r->res.status <= 299 && r->res.status != 206) {
		/* A whole answer with no body at all: the part is stale. */
		if ((k = part_restart(x)) == -1)
			rec_fail(r, ERR_IO, "cannot truncate '%s.part': %s",
			    r->save.file.p, strerror(errno));
		else if (k == -2)
			rec_fail(r, ERR_OTHER, "out of memory");
	}
	if (x->part.fd != -1) {
		part_name_file(x, r);
		x->unsettled = 1;
	}
}
