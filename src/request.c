/*
 * request: what one transfer sends.  The method and body, the -H list
 * with a request object's headers merged in, --revalidate's conditions,
 * a JSON body's type, a request object's or --netrc's credentials, and
 * the before-each-request callback that keeps -H headers and -b's
 * cookies on the URL's origin through a followed redirect.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gather/netrc.h"
#include "gather/revalidate.h"
#include "gather/text.h"
#include "gather/url.h"

#include "xfer_int.h"

/*
 * Whether the transfer has moved to another origin than its URL's, where
 * -H headers and a request object's are not sent; 1 for the same, 0 for
 * another, -1 when that cannot be told (taken as another).
 */
static int
request_same_origin(struct xfer *x)
{
	char *url = NULL;

	if (x->origin.len == 0 && url_origin(x->cu, x->rec->req.url.p,
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
request_prereq_cb(void *arg, char *conn_ip, char *local_ip, int conn_port,
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
	same = request_same_origin(x) == 1;
	/* Range stays set: its If-Range goes with it. */
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, same ? x->headers :
	    x->bare_range != NULL ? x->bare_range : x->pool->bare);
	if (x->pool->cookie != NULL)
		curl_easy_setopt(x->easy, CURLOPT_COOKIE, same ?
		    x->pool->cookie : NULL);
	return CURL_PREREQFUNC_OK;
}

/*
 * The -H list with a request object's headers merged in: its headers
 * replace -H headers of the same name, so one of each is sent.  ctype
 * adds the JSON type a JSON body goes out with.
 */
static int
request_merge_headers(struct xfer *x, const struct rec *r, int ctype)
{
	const struct curl_slist	*g;
	struct curl_slist	*l = NULL, *t;
	const char		*h;
	size_t			 i;

	for (g = x->pool->headers; g != NULL; g = g->next) {
		for (h = r->req.headers.p, i = 0; i < r->req.nheaders;
		    h += strlen(h) + 1, i++)
			if (text_same_header(g->data, h))
				break;
		if (i < r->req.nheaders)
			continue;
		if ((t = curl_slist_append(l, g->data)) == NULL)
			goto fail;
		l = t;
	}
	for (h = r->req.headers.p, i = 0; i < r->req.nheaders; h += strlen(h) + 1, i++) {
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
void
request_method(struct xfer *x, const struct rec *r)
{
	const struct opts	*o = x->pool->o;
	const char		*method = r->req.method.len ? r->req.method.p : o->method;
	const struct buf	*body = r->req.has_body ? &r->req.body :
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
int
request_check_url(struct xfer *x, struct rec *r)
{
	CURLUcode uc;

	if (strlen(r->req.url.p) != r->req.url.len) {
		rec_fail(r, ERR_INVALID_URL, "URL contains a NUL byte");
		return -1;
	}
	if (url_host_len(r->req.url.p) > URL_HOST_MAX) {
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
	    (uc = url_set(x->cu, r->req.url.p)) != CURLUE_OK) {
		rec_fail(r, uc == CURLUE_UNSUPPORTED_SCHEME ?
		    ERR_UNSUPPORTED_PROTOCOL : ERR_INVALID_URL, "%s",
		    curl_url_strerror(uc));
		return -1;
	}
	return 0;
}

/* Append the header line "name: value" (name with its colon) to x's own. */
static int
request_add_header(struct xfer *x, const char *name, const char *v, size_t n)
{
	const struct curl_slist	*g;
	struct curl_slist	*l;

	/* -H or the request object has its own: theirs wins. */
	for (g = x->own_headers; g != NULL; g = g->next)
		if (text_same_header(g->data, name))
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
request_conditions(struct xfer *x, const struct rec *r)
{
	char	date[REVALIDATE_DATE_LEN];
	size_t	n;

	if (r->req.was.etag != NULL && request_add_header(x, "If-None-Match:",
	    r->req.was.etag, r->req.was.etag_len) == -1)
		return -1;
	if (r->req.was.modified != 0 &&
	    (n = revalidate_date(date, r->req.was.modified)) > 0 &&
	    request_add_header(x, "If-Modified-Since:", date, n) == -1)
		return -1;
	return 0;
}

/*
 * Whether r's body is a JSON object or array that no header gives a type:
 * libcurl would call it application/x-www-form-urlencoded.
 */
static int
request_json_body(const struct xfer *x, const struct rec *r)
{
	const struct curl_slist	*g;
	const char		*h;
	size_t			 i;

	if (!r->req.has_body || !r->req.body_json)
		return 0;
	for (g = x->pool->headers; g != NULL; g = g->next)
		if (text_same_header(g->data, "Content-Type:"))
			return 0;
	for (h = r->req.headers.p, i = 0; i < r->req.nheaders; h += strlen(h) + 1, i++)
		if (text_same_header(h, "Content-Type:"))
			return 0;
	return 1;
}

/* The request headers of r; -1 when out of memory. */
int
request_headers(struct xfer *x, const struct rec *r)
{
	const struct opts	*o = x->pool->o;
	int			 cond = r->req.was.etag != NULL ||
				    r->req.was.modified != 0;
	int			 ctype = request_json_body(x, r);

	if ((r->req.nheaders > 0 || cond || ctype) &&
	    request_merge_headers(x, r, ctype) == -1)
		return -1;
	if (cond && request_conditions(x, r) == -1)
		return -1;
	x->headers = x->own_headers ? x->own_headers : r->req.has_body ||
	    o->has_data ? x->pool->headers : x->pool->get_headers;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	/*
	 * Headers the user gave go to the URL's origin only.  libcurl 7.88
	 * itself holds back only Authorization and Cookie on a redirect, so
	 * the list is swapped before each request of a followed redirect
	 * (request_prereq_cb).  This keeps libcurl's own following, with its
	 * POST to GET rules, --max-redirs, --proto and timing, rather than
	 * doing all of that again here; it costs nothing without headers.
	 */
	x->swap_origin = o->follow && !o->location_trusted &&
	    (o->nheaders > 0 || r->req.nheaders > 0 || x->pool->cookie != NULL);
	if (x->swap_origin || x->pool->stray != NULL) {
		curl_easy_setopt(x->easy, CURLOPT_PREREQFUNCTION,
		    request_prereq_cb);
		curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
	}
	return 0;
}

/*
 * Make x's request headers a list of its own, leaving out the lines equal
 * to drop (when not NULL); -1 when out of memory.  An own list is the one
 * x->headers points to, so it is copied only to drop a line.
 */
static int
request_own_headers(struct xfer *x, const char *drop)
{
	struct curl_slist *l = NULL;

	if (x->own_headers != NULL && drop == NULL)
		return 0;
	if (xfer_list_copy(&l, x->headers, drop) == -1) {
		curl_slist_free_all(l);
		return -1;
	}
	curl_slist_free_all(x->own_headers);
	x->own_headers = x->headers = l;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

/* Append a header line to x's own copy of its request headers. */
int
request_append_header(struct xfer *x, const char *line)
{
	if (request_own_headers(x, NULL) == -1 ||
	    xfer_list_add(&x->own_headers, line) == -1)
		return -1;
	x->headers = x->own_headers;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	return 0;
}

/* Take the header lines equal to line out of x's request headers. */
int
request_drop_header(struct xfer *x, const char *line)
{
	return request_own_headers(x, line);
}

/*
 * --netrc: the login the file has for the URL's host, set as --user's is
 * so that libcurl sends it to the URL's origin only (not with
 * CURLOPT_NETRC, whose credentials libcurl 7.88.1 sends on a redirect to
 * any host).  As in curl, the file's login wins over one in the URL.
 */
static void
request_netrc(struct xfer *x, const struct rec *r)
{
	const char	*login, *password;
	char		*host = NULL;
	size_t		 n;

	if (url_set(x->cu, r->req.url.p) != CURLUE_OK ||
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
void
request_credentials(struct xfer *x, const struct rec *r)
{
	const struct opts	*o = x->pool->o;
	CURL			*e = x->easy;

	if (r->req.user.len == 0 && r->req.bearer.len == 0 && o->user == NULL &&
	    o->bearer == NULL && o->netrc_tab != NULL)
		request_netrc(x, r);
	if (r->req.user.len > 0) {
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, NULL);
		curl_easy_setopt(e, CURLOPT_USERPWD, r->req.user.p);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	} else if (r->req.bearer.len > 0) {
		curl_easy_setopt(e, CURLOPT_USERPWD, NULL);
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, r->req.bearer.p);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	}
}
