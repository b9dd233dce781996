/*
 * setopt: the options made into the easy-handle template every transfer
 * is duplicated from, as curl's tool has config2setopts.c: what never
 * changes from one transfer to the next (protocols, redirects, timeouts,
 * TLS, proxy, HTTP version) and the run's identity (routing,
 * credentials, cookies, client certificate).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfer_int.h"

/* Seconds as libcurl's milliseconds: only 0 is "no limit", never less. */
long
setopt_ms(double secs)
{
	double ms = secs * 1000;

	if (secs <= 0)
		return 0;
	if (ms < 1)
		return 1;
	return ms >= (double)LONG_MAX ? LONG_MAX : (long)ms;
}

/*
 * Routing, credentials, cookies and the client certificate: run-wide, so
 * they are set once on the template.  Credentials of the run and of a
 * request object go to the URL's origin only (CURLOPT_UNRESTRICTED_AUTH,
 * set in setopt_template), as libcurl already holds them back on a redirect
 * to another scheme, host or port.
 */
static void
setopt_identity(struct xfer_pool *p, CURL *e)
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
setopt_buffer_size(long slots)
{
	long size;

	if (slots < 1)
		slots = 1;
	size = XFER_BUFFER_BUDGET / slots;
	if (size > XFER_BUFFER_MAX)
		size = XFER_BUFFER_MAX;
	return size < 1024 ? 1024 : size;
}

/* --http1.1, --http2-prior-knowledge or the default: ALPN over TLS. */
static void
setopt_http_version(CURL *e, enum http_version http)
{
	switch (http) {
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
CURL *
setopt_template(struct xfer_pool *p)
{
	const struct opts	*o = p->o;
	CURL			*e;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
	    setopt_buffer_size(o->concurrency));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, xfer_opensocket_cb);
	if (o->include_headers)
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, result_header_cb);
	/* "example.com/x" is http, as the man page says, not a guess. */
	curl_easy_setopt(e, CURLOPT_DEFAULT_PROTOCOL, "http");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, o->proto);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, o->proto);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (long)o->follow);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirs);
	/* Credentials go to another origin only when the user trusts it. */
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH,
	    (long)o->location_trusted);
	/* Else a line of the header lists (xfer_pool_defaults). */
	if (p->ua_option)
		curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent == NULL ?
		    p->ua : *o->user_agent != '\0' ? o->user_agent : NULL);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, o->compressed ? "" : NULL);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    setopt_ms(o->connect_timeout));
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
	setopt_http_version(e, o->http);
	setopt_identity(p, e);
	return e;
}

/* Append n strings to *l; -1 when out of memory. */
static int
setopt_slist(struct curl_slist **l, char *const *v, size_t n)
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
int
setopt_pool_identity(struct xfer_pool *p)
{
	const struct opts	*o = p->o;
	struct buf		 b = { NULL, 0, 0 };
	size_t			 i;

	if (setopt_slist(&p->resolve, o->resolve, o->nresolve) == -1 ||
	    setopt_slist(&p->connect_to, o->connect_to, o->nconnect_to) == -1)
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
