/*
 * xfer_int: what the transfer's own files share and nothing else sees.
 * One transfer is split by concern as curl's tool splits its own
 * (config2setopts.c, one callback family per file): setopt.c turns the
 * options into the easy-handle template, request.c makes each request's
 * headers, method and credentials, part.c runs the -o NAME.part
 * lifecycle, digest.c the --hash digests, result.c turns what libcurl
 * reports into the record's result, and xfer.c holds the pool, the body
 * callback and the order of it all.  struct xfer and struct xfer_pool are
 * defined here so that only these files know them.
 */
#ifndef GATHER_XFER_INT_H
#define GATHER_XFER_INT_H

#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "gather/files.h"
#include "gather/stray.h"
#include "gather/xfer.h"

/* Buffers larger than this are given back after their record is written. */
#define BODY_KEEP	(256 * 1024)

/* -o's messages of a transfer (io_msg), NUL included. */
#define XFER_IO_MSG	256

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
	int		 no_memory_res;	/* nor a header or field of the result */
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
	int		 lent;		/* body and hdrs are the record's now */
	struct buf	 cond;		/* --revalidate: a condition header */
	int		 io_errno;
	int		 sock_errno;	/* why a socket could not be made */
	int		 opened[STRAY_OPENED]; /* sockets it made, -1: none */
	int		 swap_origin;	/* -H and -b stay on the first origin */
	char		 errbuf[CURL_ERROR_SIZE];
	char		*io_msg;	/* -o's: XFER_IO_MSG bytes, else NULL */
	struct xfer	*next;
};

struct xfer_pool {
	const struct opts	*o;
	struct files		*files;
	struct xfer		*free;
	struct stray		*stray;	/* plain HTTP/1.1: see stray.h */
	struct curl_slist	*headers;	/* "Expect:", defaults, -H */
	struct curl_slist	*get_headers;	/* the same without "Expect:" */
	struct curl_slist	*bare;		/* "Expect:", defaults: no -H */
	struct curl_slist	*resolve;	/* --resolve */
	struct curl_slist	*connect_to;	/* --connect-to */
	char			*cookie;	/* -b DATA, joined by "; " */
	CURL			*tmpl;		/* what every transfer shares */
	int			 proxy_env;	/* a proxy variable is set */
	int			 ua_option;	/* UA by CURLOPT_USERAGENT */
	char			 ua[64];
	char			 ae[80];	/* the default Accept-Encoding
						   line, or "" */
};

/* xfer.c */
int		 xfer_list_add(struct curl_slist **, const char *);
int		 xfer_list_copy(struct curl_slist **, const struct curl_slist *,
		    const char *);

/* setopt.c */
long		 setopt_ms(double);
CURL		*setopt_template(struct xfer_pool *);
int		 setopt_pool_identity(struct xfer_pool *);

/* request.c */
int		 request_check_url(struct xfer *, struct rec *);
int		 request_headers(struct xfer *, const struct rec *);
int		 request_append_header(struct xfer *, const char *);
int		 request_drop_header(struct xfer *, const char *);
void		 request_method(struct xfer *, const struct rec *);
void		 request_credentials(struct xfer *, const struct rec *);

/* part.c */
int		 part_open(struct xfer *, struct rec *);
int		 part_file(struct xfer *, struct rec *);
int		 part_open_late(struct xfer *);
int		 part_body_start(struct xfer *);
int		 part_write(struct xfer *, const char *, size_t);
void		 part_finish(struct xfer *);
void		 part_settle(struct xfer *);

/* digest.c */
int		 digest_init(struct xfer *);
void		 digest_feed(struct xfer *, const char *, size_t);
int		 digest_part(struct xfer *);
void		 digest_finish(struct xfer *, struct rec *);

/* result.c */
size_t		 result_header_cb(char *, size_t, size_t, void *);
void		 result_fill(struct xfer *, CURLcode);
double		 result_retry_after(struct xfer *);
void		 result_error(struct xfer *, CURLcode);
void		 result_hand_back(struct xfer *);
void		 result_fail_status(struct xfer *);

/* xfer.c: the callbacks the template is set up with */
size_t		 xfer_write_cb(char *, size_t, size_t, void *);
curl_socket_t	 xfer_opensocket_cb(void *, curlsocktype,
		    struct curl_sockaddr *);

#endif
