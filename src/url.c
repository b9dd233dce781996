/*
 * url: URL rules, on a CURLU handle the caller owns so that parsing
 * allocates nothing new per record.  A URL without a scheme is http, as
 * CURLOPT_DEFAULT_PROTOCOL makes it for the transfer, never a guess from
 * the host name; host names compare without case.
 */
#include "gather/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gather/text.h"

/* Whether url starts with "scheme://". */
int
url_has_scheme(const char *url)
{
	const char *p = url;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return strncmp(p, "://", 3) == 0;
}

/*
 * Parse url into cu as a transfer would take it: a URL without a scheme is
 * http.  The handle is cleared first: on a handle that holds a URL, a
 * scheme-less one would be read as relative to it.
 */
CURLUcode
url_set(CURLU *cu, const char *url)
{
	CURLUcode	 uc;
	char		*full;
	size_t		 len;

	curl_url_set(cu, CURLUPART_URL, NULL, 0);
	if (url_has_scheme(url))
		return curl_url_set(cu, CURLUPART_URL, url, 0);
	len = strlen(url);
	if ((full = malloc(len + 8)) == NULL)
		return CURLUE_OUT_OF_MEMORY;
	memcpy(full, "http://", 7);
	memcpy(full + 7, url, len + 1);
	uc = curl_url_set(cu, CURLUPART_URL, full, 0);
	free(full);
	return uc;
}

/*
 * Bytes of url's host name, %XX counted as one.  libcurl's DNS cache cuts
 * the names it keys on, so two long names that differ only past the cut
 * would share an entry; no name DNS can carry is longer than URL_HOST_MAX.
 */
size_t
url_host_len(const char *url)
{
	const char	*p = url, *end, *at, *q;
	size_t		 n = 0;

	if (url_has_scheme(url))
		p = strstr(url, "://") + 3;
	end = p + strcspn(p, "/?#");
	for (at = p; at < end; at++)
		if (*at == '@')
			p = at + 1;
	if (*p == '[')
		return 0;	/* an IPv6 literal: not a name */
	for (q = p; q < end && *q != ':'; q++, n++)
		if (*q == '%' && end - q >= 3)
			q += 2;
	return n;
}

/*
 * Append the parts of url named by parts (up to three), with seps before
 * the second and third, to out, lower-cased; -1 when url is unusable or
 * memory runs out.
 */
static int
url_join(CURLU *cu, const char *url, const CURLUPart *parts, int n,
    const char *const *seps, struct buf *out)
{
	char	*v[3] = { NULL, NULL, NULL };
	size_t	 start = out->len;
	int	 i, rc = -1;

	if (url_set(cu, url) != CURLUE_OK)
		return -1;
	for (i = 0; i < n; i++)
		if (curl_url_get(cu, parts[i], &v[i], parts[i] ==
		    CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) != CURLUE_OK)
			goto out;
	for (i = 0, rc = 0; rc == 0 && i < n; i++)
		if ((i > 0 && buf_append(out, seps[i - 1],
		    strlen(seps[i - 1])) == -1) ||
		    buf_append(out, v[i], strlen(v[i])) == -1)
			rc = -1;
	if (rc == 0)
		text_lower(out->p + start, out->len - start);
out:
	for (i = 0; i < n; i++)
		curl_free(v[i]);
	return rc;
}

/*
 * "host:port" of url into key, for --per-host: host names are
 * case-insensitive, one host has one count.  "" when url is unusable;
 * -1 only when out of memory.
 */
int
url_host_key(CURLU *cu, const char *url, struct buf *key)
{
	static const CURLUPart		 parts[] = { CURLUPART_HOST,
					    CURLUPART_PORT };
	static const char *const	 seps[] = { ":" };

	buf_clear(key);
	if (url_join(cu, url, parts, 2, seps, key) == 0)
		return 0;
	buf_clear(key);
	return buf_append(key, "", 0);
}

/* "scheme://host:port" of url into out, lower-cased; -1 if unusable. */
int
url_origin(CURLU *cu, const char *url, struct buf *out)
{
	static const CURLUPart		 parts[] = { CURLUPART_SCHEME,
					    CURLUPART_HOST, CURLUPART_PORT };
	static const char *const	 seps[] = { "://", ":" };

	buf_clear(out);
	return url_join(cu, url, parts, 3, seps, out);
}

/*
 * Whether url has the origin origin (from url_origin): 1 for the same, 0
 * for another, -1 when that cannot be told.
 */
int
url_same_origin(CURLU *cu, const struct buf *origin, const char *url)
{
	struct buf	now = { 0 };
	int		same = -1;

	if (url_origin(cu, url, &now) == 0)
		same = now.len == origin->len &&
		    memcmp(now.p, origin->p, now.len) == 0;
	buf_free(&now);
	return same;
}

/*
 * Whether the scheme of url (http when it has none, or url is NULL) is in
 * the comma-separated list, setting scheme to it.
 */
int
url_proto_allowed(const char *list, const char *url, char *scheme,
    size_t len)
{
	const char	*p;
	size_t		 n;

	if (url == NULL || !url_has_scheme(url))
		url = "http://";
	n = strcspn(url, ":");
	snprintf(scheme, len, "%.*s", (int)n, url);
	for (p = list; *p != '\0'; p += strcspn(p, ","), p += *p == ',')
		if (strcspn(p, ",") == n && strncasecmp(p, url, n) == 0)
			return 1;
	return 0;
}

/*
 * Where the password of url's "user:password@" starts, and its length in
 * *len; 0 when url has none.  -v lines show it masked: stderr is often a
 * log that more people read than the input.
 */
size_t
url_password(const char *url, size_t *len)
{
	const char	*p = url, *end, *at = NULL, *colon, *q;

	if (url_has_scheme(url))
		p = strstr(url, "://") + 3;
	end = p + strcspn(p, "/?#");
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL || (colon = memchr(p, ':', (size_t)(at - p))) == NULL)
		return 0;
	*len = (size_t)(at - colon - 1);
	return (size_t)(colon + 1 - url);
}
