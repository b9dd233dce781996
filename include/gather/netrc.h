/*
 * netrc: --netrc and --netrc-file, read by gather itself.  libcurl 7.88.1
 * sends credentials it found in a netrc file on a followed redirect to any
 * origin (Curl_http_output_auth: "|| conn->bits.netrc"); gather looks the
 * URL's host up here and hands libcurl the login as if given with --user,
 * which libcurl holds back from another scheme, host or port.
 */
#ifndef GATHER_NETRC_H
#define GATHER_NETRC_H

#include <stddef.h>

struct netrc;

struct netrc	*netrc_load(const char *, char *, size_t);
struct netrc	*netrc_parse(const char *, size_t, char *, size_t);
int		 netrc_find(const struct netrc *, const char *, const char **,
		    const char **);
void		 netrc_free(struct netrc *);

#endif
