/*
 * xfer: transfers, pooled.  Every transfer gets a fresh easy handle, a
 * duplicate of one template that holds the options that never change
 * (setopt.c), so a transfer costs a duphandle, a URL and a few setopts
 * (request.c).  Bodies are kept in a buffer that is reused from transfer
 * to transfer, written to NAME.part under -o (part.c), or only counted
 * with --body none; --max-body is enforced on decoded bytes as they
 * arrive, whether or not the server sent a Content-Length.  When libcurl
 * is done, xfer_finish has the outcome made into the record's result
 * (result.c).
 */
#include "gather/xfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "gather/text.h"

#include "xfer_int.h"

/* Keep, count or save body bytes; abort once they pass --max-body. */
size_t
xfer_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 n = size * nmemb;

	/* Header lines after a body are trailers, not a new response. */
	x->hdr_start = 0;
	if (x->max_body && x->received + n > x->max_body) {
		x->too_large = 1;
		return 0;
	}
	if (!x->started) {
		x->started = 1;
		if (x->open_late && part_open_late(x) == -1)
			return 0;
		if (x->part.fd != -1 && part_body_start(x) == -1)
			return 0;
	}
	if (x->range_len && x->received + n > x->range_len) {
		x->bad_range = 1;
		x->continuable = 0;
		snprintf(x->io_msg, XFER_IO_MSG, "the 206 response is "
		    "longer than its range: '%s.part' is discarded",
		    x->rec->save.file.p);
		return 0;
	}
	x->received += n;
	if (x->skip)
		return n;
	if (x->mds)
		digest_feed(x, data, n);
	if (x->part.fd != -1) {
		if (part_write(x, data, n) == -1)
			return 0;
	} else if (x->keep_body && buf_append(&x->body, data, n) == -1) {
		x->no_memory = 1;
		return 0;
	}
	return n;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: make the socket as libcurl would, keeping
 * why it failed.  libcurl 7.88 reports a socket() that fails with EMFILE as
 * CURLE_COULDNT_CONNECT and leaves CURLINFO_OS_ERRNO at 0, which would make
 * running out of descriptors look like the server's fault.
 */
curl_socket_t
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
	/* Only -o has I/O to speak of: a slot without it holds no room. */
	if ((x->cu = curl_url()) == NULL || (p->files != NULL &&
	    (x->io_msg = malloc(XFER_IO_MSG)) == NULL)) {
		curl_url_cleanup(x->cu);
		free(x);
		return NULL;
	}
	x->pool = p;
	x->part.fd = x->part.dirfd = -1;
	x->max_body = o->max_body;
	x->keep_body = o->body != BODY_NONE && o->output_dir == NULL;
	return x;
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
	buf_free(&x->cond);
	free(x->io_msg);
	free(x);
}

/* The environment variables through which libcurl may pick a proxy. */
static const char *const proxy_vars[] = {
	"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	NULL
};

/* Append a copy of line to *l; -1 when out of memory. */
int
xfer_list_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *t;

	if ((t = curl_slist_append(*l, line)) == NULL)
		return -1;
	*l = t;
	return 0;
}

/* Append to *l a copy of every line of from but those equal to drop. */
int
xfer_list_copy(struct curl_slist **l, const struct curl_slist *from,
    const char *drop)
{
	for (; from != NULL; from = from->next)
		if ((drop == NULL || strcmp(from->data, drop) != 0) &&
		    xfer_list_add(l, from->data) == -1)
			return -1;
	return 0;
}

/* Whether one of -H names the header of line. */
static int
xfer_given_header(const struct opts *o, const char *line)
{
	size_t i;

	for (i = 0; i < o->nheaders; i++)
		if (text_same_header(o->headers[i], line))
			return 1;
	return 0;
}

/*
 * The Accept-Encoding line libcurl makes of CURLOPT_ACCEPT_ENCODING "":
 * every coding it decodes, in its order (Curl_all_content_encodings).
 */
static void
xfer_accept_encoding(char *buf, size_t n)
{
	const curl_version_info_data	*v = curl_version_info(CURLVERSION_NOW);
	int				 k;

	k = snprintf(buf, n, "Accept-Encoding:");
	if (v->features & CURL_VERSION_LIBZ)
		k += snprintf(buf + k, n - k, " deflate, gzip,");
	if (v->features & CURL_VERSION_BROTLI)
		k += snprintf(buf + k, n - k, " br,");
	if (v->features & CURL_VERSION_ZSTD)
		k += snprintf(buf + k, n - k, " zstd,");
	if (buf[k - 1] == ',')
		buf[k - 1] = '\0';
	else
		snprintf(buf + k, n - k, " identity");
}

/*
 * The default User-Agent and Accept-Encoding go out as lines of the header
 * lists, not through CURLOPT_USERAGENT and libcurl's own line: libcurl
 * formats those with its printf for every transfer and request, and
 * copies a list's lines as they are.  CURLOPT_ACCEPT_ENCODING stays set,
 * as it is what makes libcurl decode.  Through a proxy the User-Agent
 * stays an option, which libcurl also sends with a CONNECT (the lists go
 * to the server alone).  -A "" sends none, as in curl.  full: the list
 * with -H, where a -H header of the same name replaces the default.
 */
static int
xfer_pool_defaults(struct xfer_pool *p, struct curl_slist **l, int full)
{
	const struct opts	*o = p->o;
	const char		*ua = o->user_agent ? o->user_agent : p->ua;
	char			*line;
	int			 rc = 0;

	if (xfer_list_add(l, "Expect:") == -1)
		return -1;
	if (!p->ua_option && *ua != '\0' &&
	    !(full && xfer_given_header(o, "User-Agent:"))) {
		if ((line = malloc(strlen(ua) + sizeof("User-Agent: "))) ==
		    NULL)
			return -1;
		strcpy(line, "User-Agent: ");
		strcat(line, ua);
		rc = xfer_list_add(l, line);
		free(line);
	}
	if (rc == 0 && p->ae[0] != '\0' &&
	    !(full && xfer_given_header(o, p->ae)))
		rc = xfer_list_add(l, p->ae);
	return rc;
}

/* The pool: the header lists made once; files for -o (or NULL). */
struct xfer_pool *
xfer_pool_new(const struct opts *o, struct files *files)
{
	struct xfer_pool	*p;
	size_t			 i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->o = o;
	p->files = files;
	snprintf(p->ua, sizeof(p->ua), "gather/%s", GATHER_VERSION);
	for (i = 0; proxy_vars[i] != NULL; i++)
		if (getenv(proxy_vars[i]) != NULL)
			p->proxy_env = 1;
	p->ua_option = p->proxy_env || (o->proxy != NULL && *o->proxy != '\0');
	if (o->compressed)
		xfer_accept_encoding(p->ae, sizeof(p->ae));
	/* h2c connections are not reused; a unix socket has no ports. */
	if (o->http != HTTPV_2_PRIOR && o->unix_socket == NULL &&
	    (p->stray = stray_new()) == NULL) {
		xfer_pool_free(p);
		return NULL;
	}
	/* "Expect:": no "Expect: 100-continue" wait before sending a body. */
	if (xfer_pool_defaults(p, &p->headers, 1) == -1 ||
	    xfer_pool_defaults(p, &p->bare, 0) == -1 ||
	    setopt_pool_identity(p) == -1 ||
	    (p->tmpl = setopt_template(p)) == NULL) {
		xfer_pool_free(p);
		return NULL;
	}
	for (i = 0; i < o->nheaders; i++)
		if (xfer_list_add(&p->headers, o->headers[i]) == -1) {
			xfer_pool_free(p);
			return NULL;
		}
	/* A request without a body has no "Expect:" to turn off. */
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
 * handle never is (see setopt_template).
 */
void
xfer_put(struct xfer_pool *p, struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	/* Never finished (libcurl refused it): keep only what may go on. */
	if (x->part.fd != -1)
		files_close(p->files, &x->part, x->rec, x->continuable);
	if (x->rec != NULL)
		result_hand_back(x);
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
	x->too_large = x->no_memory = x->no_memory_res = 0;
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

/* Set up x to fetch r; -1 with r failed when r cannot start. */
int
xfer_prepare(struct xfer *x, struct rec *r)
{
	const struct opts	*o = x->pool->o;
	double			 t;

	if (request_check_url(x, r) == -1)
		return -1;
	/* A fresh handle per transfer: see setopt_template. */
	if ((x->easy = curl_easy_duphandle(x->pool->tmpl)) == NULL) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	xfer_reset(x, r);
	x->mds = o->hashes | (r->req.sha256[0] ? HASH_SHA256 : 0);
	if (x->pool->files != NULL && part_file(x, r) == -1)
		return -1;
	if (request_headers(x, r) == -1 || digest_init(x) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return -1;
	}
	request_method(x, r);
	request_credentials(x, r);
	t = r->req.timeout >= 0 ? r->req.timeout : o->timeout;
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, setopt_ms(t));
	/* Wait for an HTTP/2 connection to multiplex on, not a new one. */
	curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, (long)(o->http ==
	    HTTPV_DEFAULT && strncasecmp(r->req.url.p, "https:", 6) == 0));
	if (x->pool->files != NULL && !x->open_late && part_open(x, r) == -1)
		return -1;
	curl_easy_setopt(x->easy, CURLOPT_URL, r->req.url.p);
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

/*
 * Fill x's record with the outcome of the transfer that ended with rc;
 * under -o its NAME.part waits for part_settle.
 */
void
xfer_finish(struct xfer *x, CURLcode rc)
{
	struct rec *r = x->rec;

	result_fill(x, rc);
	if (x->range_len && rc == CURLE_OK && x->received != x->range_len &&
	    !x->bad_range) {
		x->bad_range = 1;
		x->continuable = 0;
		snprintf(x->io_msg, XFER_IO_MSG, "the 206 response is "
		    "shorter than its range: '%s.part' is discarded",
		    r->save.file.p);
	}
	/* An empty body that is no 304 still replaces the file. */
	if (x->open_late && rc == CURLE_OK && !r->res.not_modified)
		(void)part_open_late(x);
	r->res.retry_after = result_retry_after(x);
	result_error(x, rc);
	if (x->part.fd != -1 && r->res.not_modified &&
	    r->res.kind == ERR_NONE) {
		/* No condition was sent: no file is this 304's. */
		r->res.not_modified = 0;
		rec_fail(r, ERR_HTTP, "HTTP status 304 to a request without "
		    "conditions");
	}
	part_finish(x);
	/* A 304 has no body to hash or check: the file it keeps is older. */
	if (x->mds && r->res.kind == ERR_NONE && !x->skip &&
	    !r->res.not_modified)
		digest_finish(x, r);
	else if (r->res.hash != NULL)
		memset(r->res.hash, 0, HASH_SLOTS * sizeof(*r->res.hash));
}

/* --fail: an error status fails the record, once no retry is due. */
void
xfer_fail_status(struct xfer *x)
{
	result_fail_status(x);
}

/*
 * -o, once the record's verdict is in (its --expect included): NAME.part
 * becomes NAME or is kept or removed (part_settle).
 */
void
xfer_settle(struct xfer *x)
{
	part_settle(x);
}
