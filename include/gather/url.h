/*
 * url: the rules gather applies to a URL before and around its transfer:
 * a URL without a scheme is http, host keys for --per-host, the longest
 * host name, origins for dropping headers on a redirect, and whether a
 * scheme is in --proto.  It knows nothing of transfers.
 */
#ifndef GATHER_URL_H
#define GATHER_URL_H

#include <stddef.h>

#include <curl/curl.h>

#include "gather/buf.h"

/* The longest host name DNS can carry (RFC 1035 2.3.4, without a dot). */
#define URL_HOST_MAX	253

int		 url_has_scheme(const char *);
CURLUcode	 url_set(CURLU *, const char *);
size_t		 url_host_len(const char *);
int		 url_host_key(CURLU *, const char *, struct buf *);
int		 url_origin(CURLU *, const char *, struct buf *);
int		 url_same_origin(CURLU *, const struct buf *, const char *);
int		 url_proto_allowed(const char *, const char *, char *, size_t);
size_t		 url_password(const char *, size_t *);

#endif
