/*
 * result: what libcurl reports of a finished transfer made into the
 * record's result: status, times, validators, where it went, the wait a
 * 429 or 503 asked for, and the error kind with a message that says what
 * happened in the user's terms.  -I's header capture is here too: the
 * headers are part of the result.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gather/policy.h"
#include "gather/revalidate.h"
#include "gather/text.h"
#include "gather/url.h"

#include "xfer_int.h"

/* -I: keep the headers of the last response, names lower-cased. */
size_t
result_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 n = size * nmemb, i, nlen, vstart;
	int		 start = x->hdr_start;

	/*
	 * A response starts with its status line: the first line, or the
	 * first after the blank line that ends a response's headers (an
	 * interim 1xx, a redirect).  Anywhere else a line that begins with
	 * "HTTP/" is only a header, and must not wipe what came before it.
	 */
	x->hdr_start = 0;
	if (start && n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		buf_clear(&x->hdrs);
		x->nhdrs = 0;
		return n;
	}
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n == 0) {
		x->hdr_start = 1;
		return size * nmemb;
	}
	if ((data[0] == ' ' || data[0] == '\t') && x->nhdrs > 0) {
		/* An obsolete folded line continues the last value. */
		x->hdrs.len--;		/* drop the value's NUL */
		for (i = 0; i < n && (data[i] == ' ' || data[i] == '\t'); i++)
			;
		if (buf_append(&x->hdrs, " ", 1) == -1 ||
		    buf_append(&x->hdrs, data + i, n - i) == -1 ||
		    buf_append(&x->hdrs, "", 1) == -1) {
			x->no_memory_res = 1;
			return 0;
		}
		return size * nmemb;
	}
	for (nlen = 0; nlen < n && data[nlen] != ':'; nlen++)
		;
	if (nlen == n || nlen == 0)
		return size * nmemb;
	for (vstart = nlen + 1; vstart < n && (data[vstart] == ' ' ||
	    data[vstart] == '\t'); vstart++)
		;
	text_lower(data, nlen);
	/* NUL bytes inside would split the pair: keep what precedes them. */
	if (buf_append(&x->hdrs, data, strnlen(data, nlen)) == -1 ||
	    buf_append(&x->hdrs, "", 1) == -1 ||
	    buf_append(&x->hdrs, data + vstart, strnlen(data + vstart,
	    n - vstart)) == -1 || buf_append(&x->hdrs, "", 1) == -1) {
		x->no_memory_res = 1;
		return 0;
	}
	x->nhdrs++;
	return size * nmemb;
}

/* The error kind of a libcurl result. */
static enum err_kind
result_classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return ERR_NONE;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return ERR_UNSUPPORTED_PROTOCOL;
	case CURLE_URL_MALFORMAT:
		return ERR_INVALID_URL;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
		return ERR_DNS;
	case CURLE_COULDNT_CONNECT:
	case CURLE_PROXY:
		return ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return ERR_TLS;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2_STREAM:
		return ERR_RESET;
	case CURLE_FILESIZE_EXCEEDED:
		return ERR_TOO_LARGE;
	case CURLE_TOO_MANY_REDIRECTS:
		return ERR_TOO_MANY_REDIRECTS;
	case CURLE_WRITE_ERROR:
		return ERR_IO;
	case CURLE_ABORTED_BY_CALLBACK:
		return ERR_CANCELLED;
	default:
		return ERR_OTHER;
	}
}

/* s kept in b, the record's own; NULL for NULL, or out of memory (noted). */
static const char *
result_keep(struct xfer *x, struct buf *b, const char *s)
{
	if (s == NULL)
		return NULL;
	if (buf_set(b, s, strlen(s)) == -1) {
		x->no_memory_res = 1;
		return NULL;
	}
	return b->p;
}

/* Exchange the buffers a and b, what they hold with them. */
static void
result_swap(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}

/*
 * The body and -I's headers become the record's: the transfer's buffers
 * and the record's (empty) ones are exchanged, which copies nothing and
 * allocates nothing.
 */
static void
result_take(struct xfer *x)
{
	if (x->lent)
		return;
	result_swap(&x->body, &x->rec->res.store.body);
	result_swap(&x->hdrs, &x->rec->res.store.headers);
	x->lent = 1;
}

/*
 * The transfer is returned: it takes its buffers back, and its record
 * says no more of the attempt's result than what outlives it (status,
 * times, the error), as a record ended before its next attempt does.
 */
void
result_hand_back(struct xfer *x)
{
	struct rec *r = x->rec;

	if (x->lent) {
		result_swap(&x->body, &r->res.store.body);
		result_swap(&x->hdrs, &r->res.store.headers);
		x->lent = 0;
	}
	r->res.effective_url = r->res.content_type = NULL;
	r->res.etag = r->res.last_modified = r->res.remote_ip = NULL;
	r->res.resp_body = r->res.resp_headers = NULL;
	r->res.nresp_headers = 0;
}

/* The value of the final response's header name into b, or NULL. */
static const char *
result_header_value(struct xfer *x, const char *name, struct buf *b)
{
	struct curl_header *h;

	if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK)
		return NULL;
	return result_keep(x, b, h->value);
}

/*
 * The final response's ETag and Last-Modified.  A 304 need not repeat
 * them: then the ones sent stand, so that the next --revalidate of this
 * output still has them.
 */
static void
result_validators(struct xfer *x)
{
	struct rec	*r = x->rec;
	char		 date[REVALIDATE_DATE_LEN];
	size_t		 n;

	r->res.etag = result_header_value(x, "ETag", &r->res.store.etag);
	r->res.last_modified = result_header_value(x, "Last-Modified",
	    &r->res.store.last_modified);
	if (!r->res.not_modified)
		return;
	if (r->res.etag == NULL && r->req.was.etag != NULL) {
		if (buf_set(&r->res.store.etag, r->req.was.etag,
		    r->req.was.etag_len) == 0)
			r->res.etag = r->res.store.etag.p;
		else
			x->no_memory_res = 1;
	}
	if (r->res.last_modified == NULL && r->req.was.modified != 0 &&
	    (n = revalidate_date(date, r->req.was.modified)) > 0) {
		if (buf_set(&r->res.store.last_modified, date, n) == 0)
			r->res.last_modified = r->res.store.last_modified.p;
		else
			x->no_memory_res = 1;
	}
}

/*
 * Where the last request went and whether its connection was reused;
 * remote_ip stays NULL when no connection was made.
 */
static void
result_remote(struct xfer *x)
{
	struct rec	*r = x->rec;
	char		*ip = NULL;
	long		 port = 0, connects = 0;
	curl_off_t	 t = 0;

	r->res.remote_ip = NULL;
	r->res.remote_port = 0;
	r->res.connection_reused = 0;
	curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &port);
	curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t);
	/* A new connection has a connect time; a reused one, a response. */
	if (ip == NULL || *ip == '\0' || port <= 0 ||
	    (connects > 0 ? t <= 0 : r->res.status <= 0))
		return;
	r->res.remote_ip = result_keep(x, &r->res.store.remote_ip, ip);
	r->res.remote_port = port;
	r->res.connection_reused = connects == 0;
}

/* The response's fields and the transfer's times into x's record. */
void
result_fill(struct xfer *x, CURLcode rc)
{
	struct rec	*r = x->rec;
	CURL		*e = x->easy;
	curl_off_t	 t;
	char		*s;

	r->res.status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->res.status);
	r->res.http_version = 0;
	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &r->res.http_version);
	r->res.redirects = 0;
	curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &r->res.redirects);
	s = NULL;
	curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s);
	/* Mostly the URL itself, which the record holds already. */
	r->res.effective_url = s != NULL && r->req.url.p != NULL &&
	    strcmp(s, r->req.url.p) == 0 ? r->req.url.p :
	    result_keep(x, &r->res.store.effective_url, s);
	s = NULL;
	curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s);
	r->res.content_type = result_keep(x, &r->res.store.content_type, s);
	/* A continued file's size is the whole file's. */
	r->res.size = x->received + (r->res.status == 206 ? x->part.have : 0);
	r->res.not_modified = r->res.status == 304;
	/* A 304 has no body, not an empty one. */
	result_take(x);
	r->res.resp_body = x->keep_body && rc == CURLE_OK &&
	    !r->res.not_modified ? &r->res.store.body : NULL;
	result_validators(x);
	result_remote(x);
	r->res.resp_headers = &r->res.store.headers;
	r->res.nresp_headers = x->nhdrs;

	t = 0; curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &t);
	r->res.time.dns = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &t);
	r->res.time.connect = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &t);
	r->res.time.tls = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &t);
	r->res.time.ttfb = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &t);
	r->res.time.total = t / 1e6;
}

/*
 * The wait a 429 or 503 asked for, or -1.  The header is read from the
 * response itself: libcurl turns a number too large for it into 0, which
 * reads as no header at all, not as "long"; and it says 0 both for
 * "Retry-After: 0" and for no header.
 */
double
result_retry_after(struct xfer *x)
{
	struct curl_header	*h;
	curl_off_t		 t = -1;
	double			 wait = -1;
	long			 status = x->rec->res.status;

	if (status != 429 && status != 503)
		return -1;
	if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &t) ==
	    CURLE_OK && t > 0)
		wait = (double)t;
	if (curl_easy_header(x->easy, "Retry-After", 0, CURLH_HEADER, -1,
	    &h) == CURLHE_OK)
		wait = policy_retry_after(h->value, time(NULL));
	return wait;
}

/* libcurl's code as a record says it: -1 for none. */
static int
result_code(CURLcode rc)
{
	return rc == CURLE_OK ? -1 : (int)rc;
}

/*
 * Fail the record for what went wrong on this side or by the options'
 * limits, kind being libcurl's word for it; 0 when none of those ended
 * the transfer.
 */
static int
result_local(struct xfer *x, CURLcode rc, enum err_kind kind)
{
	const struct opts	*o = x->pool->o;
	struct rec		*r = x->rec;
	int			 code = result_code(rc);

	if (x->open_failed)
		rec_fail_curl(r, rec_io_kind(x->io_msg), code, "%s",
		    x->io_msg);
	else if (x->io_errno)
		rec_fail_curl(r, ERR_IO, code, "cannot write '%s': %s",
		    r->save.file.p, strerror(x->io_errno));
	else if (x->bad_range)
		rec_fail_curl(r, ERR_OTHER, code, "%s", x->io_msg);
	else if (x->no_memory_res)
		rec_fail_curl(r, ERR_OTHER, code, "out of memory");
	else if (rc == CURLE_OUT_OF_MEMORY && r->res.status > 0)
		/* libcurl's words for a header line past its 100 KB limit. */
		rec_fail_curl(r, ERR_OTHER, code, "a response header is longer "
		    "than 100 KB (libcurl's limit), or memory ran out");
	else if (rc == CURLE_OUT_OF_MEMORY)
		rec_fail_curl(r, ERR_OTHER, code, "out of memory");
	else if (rc == CURLE_OPERATION_TIMEDOUT && o->speed_limit &&
	    strncmp(x->errbuf, "Operation too slow", 18) == 0)
		rec_fail_curl(r, kind, code, "stalled: less than %llu "
		    "bytes/s for %ld s (--speed-limit, --speed-time)",
		    (unsigned long long)o->speed_limit, o->speed_time);
	else if (x->no_memory)
		rec_fail_curl(r, ERR_OTHER, code, "out of memory for the body "
		    "(%llu bytes so far)", (unsigned long long)x->received);
	else if (x->too_large)
		rec_fail_curl(r, ERR_TOO_LARGE, code, "body larger than %llu "
		    "bytes", (unsigned long long)x->max_body);
	else
		return 0;
	return 1;
}

/*
 * Fail the record for an error libcurl reported as rc, of kind, os_errno
 * its socket's; or, rc being CURLE_OK, say it did not fail.
 */
static void
result_curl(struct xfer *x, CURLcode rc, enum err_kind kind, long os_errno)
{
	const struct opts	*o = x->pool->o;
	struct rec		*r = x->rec;
	int			 code = result_code(rc);
	char			 scheme[32];

	if (os_errno == EMFILE || os_errno == ENFILE)
		/* Not the server's fault, and no reason to retry at once. */
		rec_fail_curl(r, ERR_OTHER, code, "too many open files");
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		/*
		 * libcurl also says CURLE_UNSUPPORTED_PROTOCOL of a response
		 * that is not HTTP (HTTP/0.9, a bad status line), which is no
		 * refused protocol.
		 */
		if (url_proto_allowed(o->proto, r->res.effective_url, scheme,
		    sizeof(scheme)))
			rec_fail_curl(r, ERR_OTHER, code, "%s", x->errbuf[0] ?
			    x->errbuf : "the response is not HTTP");
		else
			rec_fail_curl(r, kind, code, "protocol \"%s\" is not "
			    "allowed by --proto %.100s%s", scheme, o->proto,
			    r->res.redirects > 0 ? " (in a redirect)" : "");
	} else if (rc == CURLE_FILESIZE_EXCEEDED)
		rec_fail_curl(r, kind, code, "Content-Length larger than "
		    "%llu bytes", (unsigned long long)x->max_body);
	else if (rc != CURLE_OK)
		rec_fail_curl(r, kind, code, "%s", x->errbuf[0] ?
		    x->errbuf : curl_easy_strerror(rc));
	else
		rec_unfail(r);
}

/* The error kind and message of the transfer that ended with rc. */
void
result_error(struct xfer *x, CURLcode rc)
{
	enum err_kind	kind = result_classify(rc);
	long		os_errno = 0;

	if (kind == ERR_CONNECT || kind == ERR_DNS) {
		curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == 0)
			os_errno = x->sock_errno;
	}
	if (!result_local(x, rc, kind))
		result_curl(x, rc, kind, os_errno);
}

/*
 * --fail (and a sha256 to check): an error status makes the record fail,
 * decided once no retry is due (a retry's -v line says the status, not
 * this failure).  A 416 to a Range for a part already whole is no failure.
 */
void
result_fail_status(struct xfer *x)
{
	struct rec *r = x->rec;

	if ((x->pool->o->fail || r->req.sha256[0]) &&
	    r->res.kind == ERR_NONE && r->res.status >= 400 &&
	    !r->save.part_whole)
		rec_fail(r, ERR_HTTP, "HTTP status %ld", r->res.status);
}
