/*
 * Unit tests for url: the scheme default, host keys, the host-length
 * rule, origins and --proto matching.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "gather/buf.h"
#include "gather/url.h"

#define CHECK_NAME "url_unit"
#include "check.h"

/* Whether the host key of url is want. */
static int
key_is(CURLU *cu, const char *url, const char *want)
{
	struct buf	key = { 0 };
	int		ok;

	ok = url_host_key(cu, url, &key) == 0 && strcmp(key.p, want) == 0;
	if (!ok)
		fprintf(stderr, "url_unit: key of %s is '%s'\n", url,
		    key.p ? key.p : "(null)");
	buf_free(&key);
	return ok;
}

/* Whether a and b have the same origin, as url_same_origin says. */
static int
same(CURLU *cu, const char *a, const char *b)
{
	struct buf	o = { 0 };
	int		rc;

	if (url_origin(cu, a, &o) == -1)
		rc = -1;
	else
		rc = url_same_origin(cu, &o, b);
	buf_free(&o);
	return rc;
}

int
main(void)
{
	CURLU	*cu;
	char	 scheme[32], host[300], url[400];
	size_t	 n = 0;

	if ((cu = curl_url()) == NULL)
		return 1;
	CHECK(url_has_scheme("http://x"));
	CHECK(url_has_scheme("svn+ssh://x"));
	CHECK(!url_has_scheme("example.com/a://b"));
	CHECK(!url_has_scheme("1http://x"));
	CHECK(!url_has_scheme(""));
	CHECK(url_set(cu, "example.com/x") == CURLUE_OK);
	CHECK(url_set(cu, "http://[::1") != CURLUE_OK);

	CHECK(key_is(cu, "example.com/x", "example.com:80"));
	CHECK(key_is(cu, "HTTPS://Example.COM/x", "example.com:443"));
	CHECK(key_is(cu, "http://a.b:8080/", "a.b:8080"));
	CHECK(key_is(cu, "http://[::1", ""));

	CHECK(url_host_len("http://user@abc:80/x") == 3);
	CHECK(url_host_len("abc%41d/x") == 5);
	CHECK(url_host_len("http://[::1]/") == 0);
	memset(host, 'a', URL_HOST_MAX + 1);
	host[URL_HOST_MAX + 1] = '\0';
	snprintf(url, sizeof(url), "http://%s/", host);
	CHECK(url_host_len(url) == URL_HOST_MAX + 1);
	host[URL_HOST_MAX] = '\0';
	snprintf(url, sizeof(url), "%s:81", host);
	CHECK(url_host_len(url) == URL_HOST_MAX);

	CHECK(same(cu, "http://a/x", "HTTP://A:80/y") == 1);
	CHECK(same(cu, "a/x", "http://a/") == 1);
	CHECK(same(cu, "http://a/", "https://a/") == 0);
	CHECK(same(cu, "http://a/", "http://a:8080/") == 0);
	CHECK(same(cu, "http://a/", "http://b/") == 0);
	CHECK(same(cu, "http://a/", "http://[::1") == -1);

	CHECK(url_proto_allowed("http,https", "HTTPS://x", scheme,
	    sizeof(scheme)) && strcmp(scheme, "HTTPS") == 0);
	CHECK(url_proto_allowed("https", "x/y", scheme, sizeof(scheme)) == 0 &&
	    strcmp(scheme, "http") == 0);
	CHECK(url_proto_allowed("http", NULL, scheme, sizeof(scheme)));
	CHECK(!url_proto_allowed("http,https", "ftp://x", scheme,
	    sizeof(scheme)) && strcmp(scheme, "ftp") == 0);
	CHECK(!url_proto_allowed("httpx", "http://x", scheme, sizeof(scheme)));

	/* -v lines mask a URL's password: where it is, and only there. */
	CHECK(url_password("http://u:pw@h/x", &n) == 9 && n == 2);
	CHECK(url_password("u:@h/x", &n) == 2 && n == 0);
	CHECK(url_password("http://u@h/x", &n) == 0);
	CHECK(url_password("http://h/a:b@c", &n) == 0);
	CHECK(url_password("http://h/?q=a:b@c", &n) == 0);
	CHECK(url_password("http://a:b@c:d@h:81/", &n) == 9 && n == 5);

	curl_url_cleanup(cu);
	return check_report();
}
