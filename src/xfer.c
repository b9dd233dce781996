/*
 * xfer: transfers, pooled.  Every transfer gets a fresh easy handle, a
 * duplicate of one template that holds the options that never change, so a
 * transfer costs a duphandle, a URL and a few setopts.  Bodies are kept in a buffer that is reused from transfer to transfer, or
 * only counted with --body none; --max-body is enforced on decoded bytes as
 * they arrive, whether or not the server sent a Content-Length.
 */
#include "gather/xfer.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "gather/files.h"
#include "gather/netrc.h"
#include "gather/policy.h"
#include "gather/revalidate.h"
#include "gather/stray.h"
#include "gather/text.h"
#include "gather/url.h"

/* Buffers larger than this are given back after their record is written. */
#define BODY_KEEP	(256 * 1024)

struct xfer {
	CURL		*easy;		/* this transfer's own, NULL between */
	CURLU		*cu;		/* parses the URL before it is started */
	struct xfer_pool *pool;
	struct rec	*rec;
	struct buf	 body;
	struct buf	 hdrs;		/* -I: "name\0value\0" each */
	size_t		 nhdrs;
	struct curl_slist *own_headers;	/* a request object's, merged */
	struct curl_slist *headers;	/* the list sent to the first origin */
	struct buf	 origin;	/* "scheme://host:port" of the URL */
	int		 hdr_start;	/* -I: the next header line may be a
					   status line */
	uint64_t	 received;
	uint64_t	 max_body;	/* 0 = no limit */
	int		 keep_body;
	int		 too_large;
	int		 no_memory;	/* the body could not be kept */
	struct part	 part;		/* -o: NAME.part, fd -1 without */
	int		 started;	/* the first body byte came */
	int		 skip;		/* -o: not 2xx, no byte is written */
	int		 continuable;	/* -o: NAME.part may be kept */
	int		 bad_range;	/* a 206 that is not what was asked:
					   io_msg says how */
	uint64_t	 range_len;	/* a 206's: the bytes it must bring */
	struct curl_slist *bare_range;	/* "Expect:" and If-Range, for
					   another origin */
	unsigned	 mds;		/* HASH_* bits being computed */
	EVP_MD_CTX	*md[HASH_SLOTS];
	int		 open_late;	/* -o: open NAME.part at the first byte */
	int		 unsettled;	/* -o: finished, NAME.part not yet
					   renamed or closed (xfer_settle) */
	int		 open_failed;	/* that open failed: io_msg says why */
	struct buf	 etag, lastmod;	/* the final response's validators */
	struct buf	 cond;		/* --revalidate: a condition header */
	int		 io_errno;
	int		 sock_errno;	/* why a socket could not be made */
	int		 opened[STRAY_OPENED]; /* sockets it made, -1: none */
	int		 swap_origin;	/* -H and -b stay on the first origin */
	char		 errbuf[CURL_ERROR_SIZE];
	char		 io_msg[256];
	struct xfer	*next;
};

struct xfer_pool {
	const struct opts	*o;
	struct files		*files;
	struct xfer		*free;
	struct stray		*stray;	/* plain HTTP/1.1: see stray.h */
	struct curl_slist	*headers;	/* "Expect:", then -H */
	struct curl_slist	*get_headers;	/* -H alone, for no body */
	struct curl_slist	*bare;		/* "Expect:" alone: no -H */
	struct curl_slist	*resolve;	/* --resolve */
	struct curl_slist	*connect_to;	/* --connect-to */
	char			*cookie;	/* -b DATA, joined by "; " */
	CURL			*tmpl;		/* what every transfer shares */
	int			 proxy_env;	/* a proxy variable is set */
	char			 ua[64];
};

/* The digest of --hash bit i. */
static const EVP_MD *
xfer_md(int i)
{
	return i == 0 ? EVP_sha256() : i == 1 ? EVP_sha1() : EVP_md5();
}

/* Start the digests of x->mds over; -1 when out of memory. */
static int
xfer_hash_init(struct xfer *x)
{
	int i;

	for (i = 0; i < HASH_SLOTS; i++) {
		if (!(x->mds & (1u << i)))
			continue;
		if (x->md[i] == NULL && (x->md[i] = EVP_MD_CTX_new()) == NULL)
			return -1;
		if (!EVP_DigestInit_ex(x->md[i], xfer_md(i), NULL))
			return -1;
	}
	return 0;
}

/* Feed body bytes to the digests. */
static void
xfer_hash(struct xfer *x, const char *data, size_t n)
{
	int i;

	for (i = 0; i < HASH_SLOTS; i++)
		if (x->mds & (1u << i))
			EVP_DigestUpdate(x->md[i], data, n);
}

/*
 * The validator If-Range may send for what this response is: a strong
 * ETag, else Last-Modified; none unless the server takes byte ranges.
 */
static int
xfer_validator(struct xfer *x, struct buf *v)
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
xfer_header_is(struct xfer *x, const char *name, const struct buf *v)
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
xfer_range_ok(struct xfer *x)
{
	struct curl_header	*h;
	const struct buf	*v = &x->rec->validator;
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
		snprintf(x->io_msg, sizeof(x->io_msg), "the 206 response does "
		    "not start at byte %llu, where '%s.part' ends",
		    (unsigned long long)pt->have, x->rec->file.p);
		return 0;
	} else if (e < s || e + 1 != t)
		why = "the 206 response's range does not run to its total";
	else if (curl_easy_header(x->easy, "Content-Encoding", 0,
	    CURLH_HEADER, -1, &h) == CURLHE_OK &&
	    strcasecmp(h->value, "identity") != 0)
		why = "the 206 response is content-encoded";
	else if (!xfer_header_is(x, v->p[0] == '"' ? "ETag" : "Last-Modified",
	    v))
		why = "the 206 response's validator is not the part's";
	else if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
	    &cl) == CURLE_OK && cl >= 0 && (unsigned long long)cl != e - s + 1)
		why = "the 206 response's Content-Length is not its range's";
	if (why != NULL) {
		snprintf(x->io_msg, sizeof(x->io_msg), "%s: '%s.part' is "
		    "discarded", why, x->rec->file.p);
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
static int
xfer_body_start(struct xfer *x)
{
	struct part		*pt = &x->part;
	long			 code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		x->skip = 1;
		return 0;
	}
	if (code == 206) {
		if (!xfer_range_ok(x)) {
			x->bad_range = 1;
			x->continuable = 0;
			return -1;
		}
		return 0;
	}
	if (pt->have > 0) {
		/* The server sent the whole file: what was kept is stale. */
		if (files_discard(pt) == -1) {
			x->io_errno = errno;
			return -1;
		}
		if (xfer_hash_init(x) == -1)
			return -1;
	}
	x->continuable = xfer_validator(x, &x->rec->validator) == 0;
	files_mark(pt, x->continuable ? x->rec->validator.p : NULL,
	    x->continuable ? x->rec->validator.len : 0);
	return 0;
}

/*
 * --revalidate under -o: the answer is not a 304, so NAME.part is opened
 * now, to become NAME as any other body; a retry after this asks plainly.
 * No Range was asked, so a part left before starts afresh.  -1 when it
 * cannot be opened.
 */
static int
xfer_open_late(struct xfer *x)
{
	x->open_late = 0;
	memset(&x->rec->was, 0, sizeof(x->rec->was));
	if (files_open(x->pool->files, x->rec, &x->part, x->io_msg,
	    sizeof(x->io_msg)) == -1) {
		x->open_failed = 1;
		return -1;
	}
	if (x->part.have > 0 && files_discard(&x->part) == -1) {
		x->io_errno = errno;
		return -1;
	}
	return 0;
}

/* Keep, count or save body bytes; abort once they pass --max-body. */
static size_t
xfer_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 n = size * nmemb, done;
	ssize_t		 k;

	/* Header lines after a body are trailers, not a new response. */
	x->hdr_start = 0;
	if (x->max_body && x->received + n > x->max_body) {
		x->too_large = 1;
		return 0;
	}
	if (!x->started) {
		x->started = 1;
		if (x->open_late && xfer_open_late(x) == -1)
			return 0;
		if (x->part.fd != -1 && xfer_body_start(x) == -1)
			return 0;
	}
	if (x->range_len && x->received + n > x->range_len) {
		x->bad_range = 1;
		x->continuable = 0;
		snprintf(x->io_msg, sizeof(x->io_msg), "the 206 response is "
		    "longer than its range: '%s.part' is discarded",
		    x->rec->file.p);
		return 0;
	}
	x->received += n;
	if (x->skip)
		return n;
	if (x->mds)
		xfer_hash(x, data, n);
	if (x->part.fd != -1) {
		for (done = 0; done < n; done += (size_t)k) {
			k = write(x->part.fd, data + done, n - done);
			if (k == -1 && errno == EINTR)
				k = 0;
			else if (k == -1) {
				x->io_errno = errno;
				return 0;
			}
		}
	} else if (x->keep_body && buf_append(&x->body, data, n) == -1) {
		x->no_memory = 1;
		return 0;
	}
	return n;
}

/* -I: keep the headers of the last response, names lower-cased. */
static size_t
xfer_header_cb(char *data, size_t size, size_t nmemb, void *arg)
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
		    buf_append(&x->hdrs, "", 1) == -1)
			return 0;
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
	    n - vstart)) == -1 || buf_append(&x->hdrs, "", 1) == -1)
		return 0;
	x->nhdrs++;
	return size * nmemb;
}

/* Seconds as libcurl's milliseconds: only 0 is "no limit", never less. */
static long
xfer_ms(double secs)
{
	double ms = secs * 1000;

	if (secs <= 0)
		return 0;
	if (ms < 1)
		return 1;
	return ms >= (double)LONG_MAX ? LONG_MAX : (long)ms;
}

/*
 * Whether the transfer has moved to another origin than its URL's, where
 * -H headers and a request object's are not sent; 1 for the same, 0 for
 * another, -1 when that cannot be told (taken as another).
 */
static int
xfer_same_origin(struct xfer *x)
{
	char *url = NULL;

	if (x->origin.len == 0 && url_origin(x->cu, x->rec->url.p,
	    &x->origin) == -1)
		return -1;
	if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) !=
	    CURLE_OK || url == NULL)
		return -1;
	return url_same_origin(x->cu, &x->origin, url);
}

/*
 * CURLOPT_PREREQFUNCTION: runs before every request libcurl sends,
 * including each one of a followed redirect, once the new URL is the
 * effective one.  Over plain HTTP, a connection on which bytes wait
 * already is shut down (stray.h).  On another origin the header list
 * becomes the bare one and -b's cookies are dropped, so that an API key
 * given with -H or a session cookie does not reach a host the user never
 * named; back on the first origin both are restored.
 */
static int
xfer_prereq_cb(void *arg, char *conn_ip, char *local_ip, int conn_port,
    int local_port)
{
	struct xfer	*x = arg;
	const char	*scheme = NULL;
	long		 n = 0;
	int		 same;

	(void)local_ip;
	if (x->pool->stray != NULL && curl_easy_getinfo(x->easy,
	    CURLINFO_SCHEME, &scheme) == CURLE_OK && scheme != NULL &&
	    strcasecmp(scheme, "http") == 0)
		(void)stray_check(x->pool->stray, x->opened, conn_ip,
		    conn_port, local_port);
	if (!x->swap_origin || curl_easy_getinfo(x->easy,
	    CURLINFO_REDIRECT_COUNT, &n) != CURLE_OK || n == 0)
		return CURL_PREREQFUNC_OK;
	same = xfer_same_origin(x) == 1;
	/* Range stays set: its If-Range goes with it. */
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, same ? x->headers :
	    x->bare_range != NULL ? x->bare_range : x->pool->bare);
	if (x->pool->cookie != NULL)
		curl_easy_setopt(x->easy, CURLOPT_COOKIE, same ?
		    x->pool->cookie : NULL);
	return CURL_PREREQFUNC_OK;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: make the socket as libcurl would, keeping
 * why it failed.  libcurl 7.88 reports a socket() that fails with EMFILE as
 * CURLE_COULDNT_CONNECT and leaves CURLINFO_OS_ERRNO at 0, which would make
 * running out of descriptors look like the server's fault.
 */
static curl_socket_t
xfer_opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer	*x = arg;
	curl_socket_t	 s;

	(void)purpose;
	if ((s = socket(a->family, a->socktype, a->protocol)) == -1)
		x->sock_errno = errno;
	else
		stray_opened(x->opened, s);
	return s;
}

/* A new transfer of p, without a handle until it is prepared. */
static struct xfer *
xfer_new(struct xfer_pool *p)
{
	const struct opts	*o = p->o;
	struct xfer		*x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if ((x->cu = curl_url()) == NULL) {
		free(x);
		return NULL;
	}
	x->pool = p;
	x->part.fd = x->part.dirfd = -1;
	x->max_body = o->max_body;
	x->keep_body = o->body != BODY_NONE && o->output_dir == NULL;
	return x;
}

/*
 * Routing, credentials, cookies and the client certificate: run-wide, so
 * they are set once on the template.  Credentials of the run and of a
 * request object go to the URL's origin only (CURLOPT_UNRESTRICTED_AUTH,
 * set in xfer_template), as libcurl already holds them back on a redirect
 * to another scheme, host or port.
 */
static void
xfer_template_identity(struct xfer_pool *p, CURL *e)
{
	const struct opts *o = p->o;

	if (p->resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, p->resolve);
	if (p->connect_to != NULL)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, p->connect_to);
	if (o->ip_version != 0)
		curl_easy_setopt(e, CURLOPT_IPRESOLVE, o->ip_version == 4 ?
		    (long)CURL_IPRESOLVE_V4 : (long)CURL_IPRESOLVE_V6);
	if (o->unix_socket != NULL)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
	if (o->user != NULL) {
		curl_easy_setopt(e, CURLOPT_USERPWD, o->user);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	if (o->bearer != NULL) {
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, o->bearer);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	}
	if (p->cookie != NULL)
		curl_easy_setopt(e, CURLOPT_COOKIE, p->cookie);
	/*
	 * The cookie engine on, reading no file: the store is the share's
	 * (loop_share_cookies), which loaded -b's files once for the run.
	 */
	if (o->ncookie_files > 0 || o->cookie_jar != NULL)
		curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
	if (o->cert != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert);
	if (o->cert_pass != NULL)
		curl_easy_setopt(e, CURLOPT_KEYPASSWD, o->cert_pass);
	if (o->key != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->key);
}

/*
 * The receive buffer of each handle (CURLOPT_BUFFERSIZE): the budget
 * XFER_BUFFER_BUDGET shared by the slots, within libcurl's least (1 KiB)
 * and 128 KiB (what made 100 KiB downloads fastest at -c 32).  libcurl
 * allocates it when a transfer starts and frees it with the handle: one
 * per slot in flight.
 */
static long
xfer_buffer_size(long slots)
{
	long size;

	if (slots < 1)
		slots = 1;
	size = XFER_BUFFER_BUDGET / slots;
	if (size > XFER_BUFFER_MAX)
		size = XFER_BUFFER_MAX;
	return size < 1024 ? 1024 : size;
}

/*
 * The template every transfer's handle is duplicated from: what never
 * changes from one transfer to the next.  A handle is never used for a
 * second transfer: libcurl 7.88.1 keeps a pointer to the previous
 * transfer's last header line in a reused easy handle (state.prevhead,
 * upstream curl issue 11101, fixed in 8.1.0), and a response whose first
 * header line is folded then makes it unfold into freed memory, a
 * use-after-free and double free.  A duplicate of a handle that never ran
 * has no such state, costs about 1 us (0.7 to 2.6 measured) against some
 * 17 us per request, and loses nothing: connections and the DNS cache live
 * in the multi handle.
 */
static CURL *
xfer_template(struct xfer_pool *p)
{
	const struct opts	*o = p->o;
	CURL			*e;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
	    xfer_buffer_size(o->concurrency));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, xfer_opensocket_cb);
	if (o->include_headers)
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, xfer_header_cb);
	/* "example.com/x" is http, as the man page says, not a guess. */
	curl_easy_setopt(e, CURLOPT_DEFAULT_PROTOCOL, "http");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, o->proto);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, o->proto);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (long)o->follow);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirs);
	/* Credentials go to another origin only when the user trusts it. */
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH,
	    (long)o->location_trusted);
	curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent ? o->user_agent :
	    p->ua);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, o->compressed ? "" : NULL);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    xfer_ms(o->connect_timeout));
	if (o->speed_limit > 0 && o->speed_time > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT,
		    o->speed_limit > LONG_MAX ? LONG_MAX : (long)o->speed_limit);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->speed_time);
	}
	/*
	 * libcurl compares a Content-Length with the limit before a byte
	 * arrives; but a compressed body's length says nothing of its decoded
	 * size, which is what --max-body counts (in the write callback).
	 */
	if (o->max_body && !o->compressed)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)o->max_body);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
	if (o->proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, o->proxy);
	else if (!p->proxy_env)
		/* Spares libcurl a look at the environment per transfer. */
		curl_easy_setopt(e, CURLOPT_PROXY, "");
	switch (o->http) {
	case HTTPV_1_1:
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_1_1);
		break;
	case HTTPV_2_PRIOR:
		/*
		 * libcurl 7.88 breaks h2c streams after the first on a
		 * connection; a fresh connection per transfer avoids it.
		 */
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		break;
	default:
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
		    (long)CURL_HTTP_VERSION_2TLS);
		break;
	}
	xfer_template_identity(p, e);
	return e;
}

/* Free x and everything it holds. */
static void
xfer_free(struct xfer *x)
{
	int i;

	for (i = 0; i < HASH_SLOTS; i++)
		EVP_MD_CTX_free(x->md[i]);
	curl_easy_cleanup(x->easy);
	curl_url_cleanup(x->cu);
	curl_slist_free_all(x->own_headers);
	curl_slist_free_all(x->bare_range);
	buf_free(&x->body);
	buf_free(&x->hdrs);
	buf_free(&x->origin);
	buf_free(&x->etag);
	buf_free(&x->lastmod);
	buf_free(&x->cond);
	free(x);
}

/* The environment variables through which libcurl may pick a proxy. */
static const char *const proxy_vars[] = {
	"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	NULL
};

/* Append n strings to *l; -1 when out of memory. */
static int
xfer_slist(struct curl_slist **l, char *const *v, size_t n)
{
	struct curl_slist	*t;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if ((t = curl_slist_append(*l, v[i])) == NULL)
			return -1;
		*l = t;
	}
	return 0;
}

/* What the identity options need made once: lists, -b's joined cookies. */
static int
xfer_pool_identity(struct xfer_pool *p)
{
	const struct opts	*o = p->o;
	struct buf		 b = { NULL, 0, 0 };
	size_t			 i;

	if (xfer_slist(&p->resolve, o->resolve, o->nresolve) == -1 ||
	    xfer_slist(&p->connect_to, o->connect_to, o->nconnect_to) == -1)
		return -1;
	for (i = 0; i < o->ncookie_data; i++)
		if ((i > 0 && buf_append(&b, "; ", 2) == -1) ||
		    buf_append(&b, o->cookie_data[i],
		    strlen(o->cookie_data[i])) == -1) {
			buf_free(&b);
			return -1;
		}
	/* The buffer is NUL-terminated: it becomes the string. */
	p->cookie = b.p;
	return 0;
}

/* The pool: -H headers made into a list once; files for -o (or NULL). */
struct xfer_pool *
xfer_pool_new(const struct opts *o, struct files *files)
{
	struct xfer_pool	*p;
	struct curl_slist	*l;
	size_t			 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->o = o;
	p->files = files;
	snprintf(p->ua, sizeof(p->ua), "gather/%s", GATHER_VERSION);
	for (i = 0; proxy_vars[i] != NULL; i++)
		if (getenv(proxy_vars[i]) != NULL)
			p->proxy_env = 1;
	/* No "Expect: 100-continue" wait before sending a body. */
	if ((p->headers = curl_slist_append(NULL, "Expect:")) == NULL) {
		free(p);
		return NULL;
	}
	/* h2c connections are not reused; a unix socket has no ports. */
	if (o->http != HTTPV_2_PRIOR && o->unix_socket == NULL &&
	    (p->stray = stray_new()) == NULL) {
		xfer_pool_free(p);
		return NULL;
	}
	if ((p->bare = curl_slist_append(NULL, "Expect:")) == NULL ||
	    xfer_pool_identity(p) == -1 ||
	    (p->tmpl = xfer_template(p)) == NULL) {
		xfer_pool_free(p);
		return NULL;
	}
	for (i = 0; i < o->nheaders; i++) {
		if ((l = curl_slist_append(p->headers, o->headers[i])) == NULL) {
			xfer_pool_free(p);
			return NULL;
		}
		p->headers = l;
	}
	/* A request without a body need not carry a list libcurl scans. */
	p->get_headers = p->headers->next;
	return p;
}

/* Free the pool, its idle transfers and its template. */
void
xfer_pool_free(struct xfer_pool *p)
{
	struct xfer *x;

	if (p == NULL)
		return;
	while ((x = p->free) != NULL) {
		p->free = x->next;
		xfer_free(x);
	}
	curl_easy_cleanup(p->tmpl);
	stray_free(p->stray);
	curl_slist_free_all(p->resolve);
	curl_slist_free_all(p->connect_to);
	free(p->cookie);
	curl_slist_free_all(p->bare);
	curl_slist_free_all(p->headers);
	free(p);
}

/* A handle from the pool, made on first need: at most -c ever exist. */
struct xfer *
xfer_get(struct xfer_pool *p)
{
	struct xfer *x;

	if ((x = p->free) != NULL) {
		p->free = x->next;
		return x;
	}
	return xfer_new(p);
}

/*
 * Back to the pool; the body's memory is kept unless it grew large, the
 * handle never is (see xfer_template).
 */
void
xfer_put(struct xfer_pool *p, struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	/* Never finished (libcurl refused it): keep only what may go on. */
	if (x->part.fd != -1)
		files_close(p->files, &x->part, x->rec, x->continuable);
	x->rec = NULL;
	curl_slist_free_all(x->own_headers);
	x->own_headers = NULL;
	curl_slist_free_all(x->bare_range);
	x->bare_range = NULL;
	buf_clear(&x->body);
	buf_trim_capacity(&x->body, BODY_KEEP);
	buf_clear(&x->hdrs);
	buf_trim_capacity(&x->hdrs, BODY_KEEP);
	x->nhdrs = 0;
	x->next = p->free;
	p->free = x;
}

/* Whether header line h sets the header named by line n. */
static int
xfer_same_name(const char *h, const char *n)
{
	size_t hl = strcspn(h, ":;"), nl = strcspn(n, ":;");

	return hl == nl && strncasecmp(h, n, hl) == 0;
}

/*
 * The -H list with a request object's headers merged in: its headers
 * replace -H headers of the same name, so one of each is sent.  ctype
 * adds the JSON type a JSON body goes out with.
 */
static int
xfer_merge_headers(struct xfer *x, const struct rec *r, int ctype)
{
	const struct curl_slist	*g;
	struct curl_slist	*l = NULL, *t;
	const char		*h;
	size_t			 i;

	for (g = x->pool->headers; g != NULL; g = g->next) {
		for (h = r->headers.p, i = 0; i < r->nheaders;
		    h += strlen(h) + 1, i++)
			if (xfer_same_name(g->data, h))
				break;
		if (i < r->nheaders)
			continue;
		if ((t = curl_slist_append(l, g->data)) == NULL)
			goto fail;
		l = t;
	}
	for (h = r->headers.p, i = 0; i < r->nheaders; h += strlen(h) + 1, i++) {
		if ((t = curl_slist_append(l, h)) == NULL)
			goto fail;
		l = t;
	}
	if (ctype && (t = curl_slist_append(l,
	    "Content-Type: application/json")) == NULL)
		goto fail;
	x->own_headers = ctype ? t : l;
	return 0;
fail:
	curl_slist_free_all(l);
	return -1;
}

/* Method and body: the record's own, else the options'. */
static void
xfer_method(struct xfer *x, const struct rec *r)
{
	const struct opts	*o = x->pool->o;
	const char		*method = r->method.len ? r->method.p : o->method;
	const struct buf	*body = r->has_body ? &r->body :
				    o->has_data ? &o->data : NULL;
	CURL			*e = x->easy;

	curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body->len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body->p ? body->p : "");
		if (method && strcasecmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else if (method && strcasecmp(method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (method && strcasecmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

/* Whether r's URL may be fetched at all; -1 with r failed when not. */
static int
xfer_check_url(struct xfer *x, struct rec *r)
{
	CURLUcode uc;

	if (strlen(r->url.p) != r->url.len) {
		rec_fail(r, ERR_INVALID_URL, "URL contains a NUL byte");
		return -1;
	}
	if (url_host_len(r->url.p) > URL_HOST_MAX) {
		rec_fail(r, ERR_INVALID_URL, "host name longer than %d bytes",
		    URL_HOST_MAX);
		return -1;
	}
	/*
	 * libcurl parses the URL when the transfer starts and reports a bad
	 * one as such; under -o it is checked first, so that no file is made
	 * for a URL that cannot be fetched.
	 */
	if (x->pool->files != NULL &&
	    (uc = url_set(x->cu, r->url.p)) != CURLUE_OK) {
		rec_fail(r, uc == CURLUE_UNSUPPORTED_SCHEME ?
		    ERR_UNSUPPORTED_PROTOCOL : ERR_INVALID_URL, "%s",
		    curl_url_strerror(uc));
		return -1;
	}
	return 0;
}

/* Clear x's per-transfer state for r and point the new handle at x. */
static void
xfer_reset(struct xfer *x, struct rec *r)
{
	CURL *e = x->easy;

	x->rec = r;
	x->received = 0;
	x->started = x->skip = x->continuable = x->bad_range = 0;
	x->unsettled = 0;
	x->range_len = 0;
	x->too_large = x->no_memory = 0;
	x->io_errno = 0;
	x->sock_errno = 0;
	memset(x->opened, 0xff, sizeof(x->opened));	/* all -1 */
	x->open_late = x->open_failed = 0;
	x->errbuf[0] = '\0';
	x->hdr_start = 1;
	buf_clear(&x->body);
	buf_clear(&x->hdrs);
	buf_clear(&x->origin);
	x->nhdrs = 0;
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	if (x->pool->o->include_headers)
		curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
}

/* Append the header line "name: value" (name with its colon) to x's own. */
static int
xfer_add_header(struct xfer *x, const char *name, const char *v, size_t n)
{
	const struct curl_slist	*g;
	struct curl_slist	*l;

	/* -H or the request object has its own: theirs wins. */
	for (g = x->own_headers; g != NULL; g = g->next)
		if (xfer_same_name(g->data, name))
			return 0;
	buf_clear(&x->cond);
	if (buf_append(&x->cond, name, strlen(name)) == -1 ||
	    buf_append(&x->cond, " ", 1) == -1 ||
	    buf_append(&x->cond, v, n) == -1 ||
	    (l = curl_slist_append(x->own_headers, x->cond.p)) == NULL)
		return -1;
	x->own_headers = l;
	return 0;
}

/* --revalidate: FILE's validators for r as conditions; -1 out of memory. */
static int
xfer_conditions(struct xfer *x, const struct rec *r)
{
	char	date[REVALIDATE_DATE_LEN];
	size_t	n;

	if (r->was.etag != NULL && xfer_add_header(x, "If-None-Match:",
	    r->was.etag, r->was.etag_len) == -1)
		return -1;
	if (r->was.modified != 0 &&
	    (n = revalidate_date(date, r->was.modified)) > 0 &&
	    xfer_add_header(x, "If-Modified-Since:", date, n) == -1)
		return -1;
	return 0;
}

/*
 * Whether r's body is a JSON object or array that no header gives a type:
 * libcurl would call it application/x-www-form-urlencoded.
 */
static int
xfer_json_body(const struct xfer *x, const struct rec *r)
{
	const struct curl_slist	*g;
	const char		*h;
	size_t			 i;

	if (!r->has_body || !r->body_json)
		return 0;
	for (g = x->pool->headers; g != NULL; g = g->next)
		if (xfer_same_name(g->data, "Content-Type:"))
			return 0;
	for (h = r->headers.p, i = 0; i < r->nheaders; h += strlen(h) + 1, i++)
		if (xfer_same_name(h, "Content-Type:"))
			return 0;
	return 1;
}

/* The request headers of r; -1 when out of memory. */
static int
xfer_headers(struct xfer *x, const struct rec *r)
{
	const struct opts	*o = x->pool->o;
	int			 cond = r->was.etag != NULL ||
				    r->was.modified != 0;
	int			 ctype = xfer_json_body(x, r);

	if ((r->nheaders > 0 || cond || ctype) &&
	    xfer_merge_headers(x, r, ctype) == -1)
		return -1;
	if (cond && xfer_conditions(x, r) == -1)
		return -1;
	x->headers = x->own_headers ? x->own_headers : r->has_body ||
	    o->has_data ? x->pool->headers : x->pool->get_headers;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	/*
	 * Headers the user gave go to the URL's origin only.  libcurl 7.88
	 * itself holds back only Authorization and Cookie on a redirect, so
	 * the list is swapped before each request of a followed redirect
	 * (xfer_prereq_cb).  This keeps libcurl's own following, with its
	 * POST to GET rules, --max-redirs, --proto and timing, rather than
	 * doing all of that again here; it costs nothing without headers.
	 */
	x->swap_origin = o->follow && !o->location_trusted &&
	    (o->nheaders > 0 || r->nheaders > 0 || x->pool->cookie != NULL);
	if (x->swap_origin || x->pool->stray != NULL) {
		curl_easy_setopt(x->easy, CURLOPT_PREREQFUNCTION,
		    xfer_prereq_cb);
		curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
	}
	return 0;
}

/* Append a header line to x's own copy of its request headers. */
static int
xfer_append_header(struct xfer *x, const char *line)
{
	const struct curl_slist	*g;
	struct curl_slist	*l = NULL, *t;

	if (x->own_headers == NULL) {
		for (g = x->headers; g != NULL; g = g->next) {
			if ((t = curl_slist_append(l, g->data)) == NULL) {
				curl_slist_free_all(l);
				return -1;
			}
			l = t;
		}
		x->own_headers = l;
	}
	if ((t = curl_slist_append(x->own_headers, line)) == NULL)
		return -1;
	x->own_headers = x->headers = t;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

/*
 * Hash what NAME.part already holds, so that a continued file's hash is
 * the whole file's.  A local read, as the open before it.
 */
static int
xfer_hash_part(struct xfer *x)
{
	char		chunk[65536];
	uint64_t	off = 0;
	ssize_t		n;

	while (off < x->part.have) {
		n = pread(x->part.fd, chunk, x->part.have - off < sizeof(chunk) ?
		    (size_t)(x->part.have - off) : sizeof(chunk), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		xfer_hash(x, chunk, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * -o: open NAME.part; when it continues, ask for the rest with Range and
 * If-Range (a changed file comes whole, as a 200) and without
 * compression, since the range counts the bytes the part holds.
 */
static int
xfer_part(struct xfer *x, struct rec *r)
{
	const struct buf	*v = &r->validator;
	char			 line[64], hdr[1100];

	if (files_open(x->pool->files, r, &x->part, x->io_msg,
	    sizeof(x->io_msg)) == -1) {
		rec_fail(r, ERR_IO, "%s", x->io_msg);
		return -1;
	}
	x->continuable = x->part.have > 0;
	if (x->part.have == 0)
		return 0;
	if (x->mds && xfer_hash_part(x) == -1) {
		rec_fail(r, ERR_IO, "cannot read '%s.part': %s", r->file.p,
		    strerror(errno ? errno : EIO));
		return -1;
	}
	snprintf(line, sizeof(line), "%llu-",
	    (unsigned long long)x->part.have);
	curl_easy_setopt(x->easy, CURLOPT_RANGE, line);
	curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, NULL);
	/* files_open read it back from the part and checked it. */
	snprintf(hdr, sizeof(hdr), "If-Range: %.*s", (int)v->len, v->p);
	if (xfer_append_header(x, hdr) == -1 ||
	    (x->bare_range = curl_slist_append(NULL, "Expect:")) == NULL ||
	    curl_slist_append(x->bare_range, hdr) == NULL) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * -o with --revalidate: a NAME an earlier run left is kept until the
 * first body byte, which a 304 never sends, and only then is NAME.part
 * opened (xfer_open_late).  A NAME that is not there is fetched plainly.
 */
static int
xfer_file(struct xfer *x, struct rec *r)
{
	int rc;

	if (r->was.etag == NULL && r->was.modified == 0)
		return 0;
	if ((rc = files_existing(x->pool->files, r)) == 1) {
		x->open_late = 1;
		return 0;
	}
	if (rc == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	memset(&r->was, 0, sizeof(r->was));
	return 0;
}

/*
 * --netrc: the login the file has for the URL's host, set as --user's is
 * so that libcurl sends it to the URL's origin only (not with
 * CURLOPT_NETRC, whose credentials libcurl 7.88.1 sends on a redirect to
 * any host).  As in curl, the file's login wins over one in the URL.
 */
static void
xfer_netrc(struct xfer *x, const struct rec *r)
{
	const char	*login, *password;
	char		*host = NULL;
	size_t		 n;

	if (url_set(x->cu, r->url.p) != CURLUE_OK ||
	    curl_url_get(x->cu, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return;
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (netrc_find(x->pool->o->netrc_tab, host, &login, &password)) {
		curl_easy_setopt(x->easy, CURLOPT_USERNAME, login);
		curl_easy_setopt(x->easy, CURLOPT_PASSWORD, password);
		curl_easy_setopt(x->easy, CURLOPT_HTTPAUTH,
		    (long)CURLAUTH_BASIC);
	}
	curl_free(host);
}

/*
 * A request object's "user" or "bearer": in place of the run's
 * credentials of either kind, for this transfer only.  --netrc comes
 * only where neither these nor --user or --oauth2-bearer give any.
 */
static void
xfer_credentials(struct xfer *x, const struct rec *r)
{
	const struct opts	*o = x->pool->o;
	CURL			*e = x->easy;

	if (r->user.len == 0 && r->bearer.len == 0 && o->user == NULL &&
	    o->bearer == NULL && o->netrc_tab != NULL)
		xfer_netrc(x, r);
	if (r->user.len > 0) {
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, NULL);
		curl_easy_setopt(e, CURLOPT_USERPWD, r->user.p);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	} else if (r->bearer.len > 0) {
		curl_easy_setopt(e, CURLOPT_USERPWD, NULL);
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, r->bearer.p);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	}
}

/* Set up x to fetch r; -1 with r failed when r cannot start. */
int
xfer_prepare(struct xfer *x, struct rec *r)
{
	const struct opts	*o = x->pool->o;
	double			 t;

	if (xfer_check_url(x, r) == -1)
		return -1;
	/* A fresh handle per transfer: see xfer_template. */
	if ((x->easy = curl_easy_duphandle(x->pool->tmpl)) == NULL) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	xfer_reset(x, r);
	x->mds = o->hashes | (r->sha256[0] ? HASH_SHA256 : 0);
	if (x->pool->files != NULL && xfer_file(x, r) == -1)
		return -1;
	if (xfer_headers(x, r) == -1 || xfer_hash_init(x) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	xfer_method(x, r);
	xfer_credentials(x, r);
	t = r->timeout >= 0 ? r->timeout : o->timeout;
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, xfer_ms(t));
	/* Wait for an HTTP/2 connection to multiplex on, not a new one. */
	curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, (long)(o->http ==
	    HTTPV_DEFAULT && strncasecmp(r->url.p, "https:", 6) == 0));
	if (x->pool->files != NULL && !x->open_late && xfer_part(x, r) == -1)
		return -1;
	curl_easy_setopt(x->easy, CURLOPT_URL, r->url.p);
	return 0;
}

/* x's easy handle, while it runs. */
CURL *
xfer_easy(const struct xfer *x)
{
	return x->easy;
}

/* The transfer an easy handle belongs to. */
struct xfer *
xfer_of(CURL *e)
{
	struct xfer *x = NULL;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	return x;
}

/* The record x is fetching. */
struct rec *
xfer_rec(const struct xfer *x)
{
	return x->rec;
}

/* The error kind of a libcurl result. */
static enum err_kind
xfer_classify(CURLcode rc)
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

/* The value of the final response's header name into b, or NULL. */
static const char *
xfer_header_value(struct xfer *x, const char *name, struct buf *b)
{
	struct curl_header *h;

	if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK || h->value == NULL ||
	    buf_set(b, h->value, strlen(h->value)) == -1)
		return NULL;
	return b->p;
}

/*
 * The final response's ETag and Last-Modified.  A 304 need not repeat
 * them: then the ones sent stand, so that the next --revalidate of this
 * output still has them.
 */
static void
xfer_validators(struct xfer *x)
{
	struct rec	*r = x->rec;
	char		 date[REVALIDATE_DATE_LEN];
	size_t		 n;

	r->etag = xfer_header_value(x, "ETag", &x->etag);
	r->last_modified = xfer_header_value(x, "Last-Modified", &x->lastmod);
	if (!r->not_modified)
		return;
	if (r->etag == NULL && r->was.etag != NULL &&
	    buf_set(&x->etag, r->was.etag, r->was.etag_len) == 0)
		r->etag = x->etag.p;
	if (r->last_modified == NULL && r->was.modified != 0 &&
	    (n = revalidate_date(date, r->was.modified)) > 0 &&
	    buf_set(&x->lastmod, date, n) == 0)
		r->last_modified = x->lastmod.p;
}

/*
 * Where the last request went and whether its connection was reused;
 * remote_ip stays NULL when no connection was made.
 */
static void
xfer_remote(struct xfer *x)
{
	struct rec	*r = x->rec;
	char		*ip = NULL;
	long		 port = 0, connects = 0;
	curl_off_t	 t = 0;

	r->remote_ip = NULL;
	r->remote_port = 0;
	r->connection_reused = 0;
	curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &port);
	curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t);
	/* A new connection has a connect time; a reused one, a response. */
	if (ip == NULL || *ip == '\0' || port <= 0 ||
	    (connects > 0 ? t <= 0 : r->status <= 0))
		return;
	r->remote_ip = ip;
	r->remote_port = port;
	r->connection_reused = connects == 0;
}

/* The response's fields and the transfer's times into x's record. */
static void
xfer_result(struct xfer *x, CURLcode rc)
{
	struct rec	*r = x->rec;
	CURL		*e = x->easy;
	curl_off_t	 t;
	char		*s;

	r->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	r->http_version = 0;
	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &r->http_version);
	r->redirects = 0;
	curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &r->redirects);
	s = NULL;
	curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s);
	r->effective_url = s;
	s = NULL;
	curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s);
	r->content_type = s;
	/* A continued file's size is the whole file's. */
	r->size = x->received + (r->status == 206 ? x->part.have : 0);
	r->not_modified = r->status == 304;
	/* A 304 has no body, not an empty one. */
	r->resp_body = x->keep_body && rc == CURLE_OK && !r->not_modified ?
	    &x->body : NULL;
	xfer_validators(x);
	xfer_remote(x);
	r->resp_headers = &x->hdrs;
	r->nresp_headers = x->nhdrs;

	t = 0; curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &t);
	r->time.dns = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &t);
	r->time.connect = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &t);
	r->time.tls = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &t);
	r->time.ttfb = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &t);
	r->time.total = t / 1e6;
}

/*
 * The wait a 429 or 503 asked for, or -1.  The header is read from the
 * response itself: libcurl turns a number too large for it into 0, which
 * reads as no header at all, not as "long"; and it says 0 both for
 * "Retry-After: 0" and for no header.
 */
static double
xfer_retry_after(struct xfer *x)
{
	struct curl_header	*h;
	curl_off_t		 t = -1;
	double			 wait = -1;
	long			 status = x->rec->status;

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

/* The error kind and message of the transfer that ended with rc. */
static void
xfer_error(struct xfer *x, CURLcode rc)
{
	const struct opts	*o = x->pool->o;
	struct rec		*r = x->rec;
	long			 os_errno = 0;
	char			 scheme[32];

	r->kind = xfer_classify(rc);
	r->curl_code = rc == CURLE_OK ? -1 : (int)rc;
	r->msg[0] = '\0';
	if (r->kind == ERR_CONNECT || r->kind == ERR_DNS) {
		curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == 0)
			os_errno = x->sock_errno;
	}
	if (x->open_failed) {
		r->kind = ERR_IO;
		snprintf(r->msg, sizeof(r->msg), "%s", x->io_msg);
	} else if (x->io_errno) {
		r->kind = ERR_IO;
		snprintf(r->msg, sizeof(r->msg), "cannot write '%s': %s",
		    r->file.p, strerror(x->io_errno));
	} else if (x->bad_range) {
		r->kind = ERR_OTHER;
		snprintf(r->msg, sizeof(r->msg), "%s", x->io_msg);
	} else if (rc == CURLE_OUT_OF_MEMORY && r->status > 0) {
		/* libcurl's words for a header line past its 100 KB limit. */
		r->kind = ERR_OTHER;
		snprintf(r->msg, sizeof(r->msg), "a response header is longer "
		    "than 100 KB (libcurl's limit), or memory ran out");
	} else if (rc == CURLE_OPERATION_TIMEDOUT && x->pool->o->speed_limit &&
	    strncmp(x->errbuf, "Operation too slow", 18) == 0) {
		snprintf(r->msg, sizeof(r->msg), "stalled: less than %llu "
		    "bytes/s for %ld s (--speed-limit, --speed-time)",
		    (unsigned long long)o->speed_limit, o->speed_time);
	} else if (x->no_memory) {
		r->kind = ERR_OTHER;
		snprintf(r->msg, sizeof(r->msg), "out of memory for the body "
		    "(%llu bytes so far)", (unsigned long long)x->received);
	} else if (x->too_large) {
		r->kind = ERR_TOO_LARGE;
		snprintf(r->msg, sizeof(r->msg), "body larger than %llu bytes",
		    (unsigned long long)x->max_body);
	} else if (os_errno == EMFILE || os_errno == ENFILE) {
		/* Not the server's fault, and no reason to retry at once. */
		r->kind = ERR_OTHER;
		snprintf(r->msg, sizeof(r->msg), "too many open files");
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		/*
		 * libcurl also says CURLE_UNSUPPORTED_PROTOCOL of a response
		 * that is not HTTP (HTTP/0.9, a bad status line), which is no
		 * refused protocol.
		 */
		if (url_proto_allowed(o->proto, r->effective_url, scheme,
		    sizeof(scheme))) {
			r->kind = ERR_OTHER;
			snprintf(r->msg, sizeof(r->msg), "%s", x->errbuf[0] ?
			    x->errbuf : "the response is not HTTP");
		} else
			snprintf(r->msg, sizeof(r->msg), "protocol \"%s\" is "
			    "not allowed by --proto %.100s%s", scheme, o->proto,
			    r->redirects > 0 ? " (in a redirect)" : "");
	} else if (rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(r->msg, sizeof(r->msg), "Content-Length larger than "
		    "%llu bytes", (unsigned long long)x->max_body);
	else if (rc != CURLE_OK)
		snprintf(r->msg, sizeof(r->msg), "%s", x->errbuf[0] ?
		    x->errbuf : curl_easy_strerror(rc));
}

/* Whether a 416 says that NAME.part already is the whole file. */
static int
xfer_part_whole(struct xfer *x)
{
	struct curl_header	*h;
	unsigned long long	 total;

	return x->part.have > 0 && x->rec->status == 416 &&
	    curl_easy_header(x->easy, "Content-Range", 0, CURLH_HEADER, -1,
	    &h) == CURLHE_OK && sscanf(h->value, "bytes */%llu", &total) == 1 &&
	    total == x->part.have;
}

/*
 * The digests into r->hash as lower hex; a checksum is checked, but not
 * against an error status's body: that record is http (sched_done).
 */
static void
xfer_digests(struct xfer *x, struct rec *r)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len, j;
	int		i;

	for (i = 0; i < HASH_SLOTS; i++) {
		r->hash[i][0] = '\0';
		if (!(x->mds & (1u << i)) || !EVP_DigestFinal_ex(x->md[i], md,
		    &len))
			continue;
		for (j = 0; j < len && j * 2 + 2 < sizeof(r->hash[i]); j++)
			snprintf(r->hash[i] + j * 2, 3, "%02x", md[j]);
	}
	if (r->sha256[0] && r->status < 400 && strcmp(r->sha256, r->hash[0]) !=
	    0) {
		rec_fail(r, ERR_CHECKSUM, "sha256 is %s, not %s", r->hash[0],
		    r->sha256);
		r->curl_code = -1;
	}
}

/*
 * -o: whether the record names a file at all: a response that is not
 * 2xx names none, nor does a 206 that was not the range asked for; a
 * broken one does.  Known when the transfer ends, so that --expect sees
 * the record's file as it will be printed when it passes.
 */
static void
xfer_name_file(struct xfer *x, struct rec *r)
{
	r->no_file = (r->status > 0 && (r->status < 200 || r->status > 299) &&
	    !r->part_whole) || x->bad_range;
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
xfer_settle(struct xfer *x)
{
	struct files	*f = x->pool->files;
	struct rec	*r = x->rec;
	int		 keep;

	if (!x->unsettled)
		return;
	x->unsettled = 0;
	if (r->kind == ERR_NONE && !r->no_file && r->status > 0) {
		if (files_commit(f, &x->part, r, x->io_msg,
		    sizeof(x->io_msg)) == -1)
			rec_fail(r, ERR_IO, "%s", x->io_msg);
		files_close(f, &x->part, r, r->kind == ERR_NONE);
		return;
	}
	if (r->kind == ERR_EXPECTATION)
		r->no_file = 1;
	keep = x->continuable && !x->bad_range && r->kind != ERR_CHECKSUM &&
	    r->status != 416;
	files_close(f, &x->part, r, keep);
	r->part_kept = keep;
}

/*
 * Fill x's record with the outcome of the transfer that ended with rc;
 * under -o its NAME.part waits for xfer_settle.
 */
void
xfer_finish(struct xfer *x, CURLcode rc)
{
	struct rec *r = x->rec;

	xfer_result(x, rc);
	if (x->range_len && rc == CURLE_OK && x->received != x->range_len &&
	    !x->bad_range) {
		x->bad_range = 1;
		x->continuable = 0;
		snprintf(x->io_msg, sizeof(x->io_msg), "the 206 response is "
		    "shorter than its range: '%s.part' is discarded",
		    r->file.p);
	}
	/* An empty body that is no 304 still replaces the file. */
	if (x->open_late && rc == CURLE_OK && !r->not_modified)
		(void)xfer_open_late(x);
	r->retry_after = xfer_retry_after(x);
	xfer_error(x, rc);
	if (x->part.fd != -1 && r->not_modified && r->kind == ERR_NONE) {
		/* No condition was sent: no file is this 304's. */
		r->not_modified = 0;
		rec_fail(r, ERR_HTTP, "HTTP status 304 to a request without "
		    "conditions");
	}
	if (x->part.fd != -1 && r->kind == ERR_NONE &&
	    (r->part_whole = xfer_part_whole(x))) {
		r->size = x->part.have;
		x->skip = 0;
	} else if (x->part.have > 0 && !x->started && r->status >= 200 &&
	    r->status <= 299 && r->status != 206) {
		/* A whole answer with no body at all: the part is stale. */
		if (ftruncate(x->part.fd, 0) == -1)
			rec_fail(r, ERR_IO, "cannot truncate '%s.part': %s",
			    r->file.p, strerror(errno));
		x->part.have = 0;
		if (xfer_hash_init(x) == -1)
			rec_fail(r, ERR_OTHER, "out of memory");
	}
	/* A 304 has no body to hash or check: the file it keeps is older. */
	if (x->mds && r->kind == ERR_NONE && !x->skip && !r->not_modified)
		xfer_digests(x, r);
	else
		memset(r->hash, 0, sizeof(r->hash));
	if (x->part.fd != -1) {
		xfer_name_file(x, r);
		x->unsettled = 1;
	}
}
