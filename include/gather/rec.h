/*
 * rec: one input record on its way through gather, from the line that was
 * read to the JSON record that is written.  The scheduler owns records and
 * recycles them; input fills in the request, a transfer the result, and
 * the output stage (record, reorder, writer) only reads it.
 */
#ifndef GATHER_REC_H
#define GATHER_REC_H

#include <stdint.h>

#include <ev.h>

#include "gather/buf.h"
#include "gather/digest.h"
#include "gather/err_kind.h"
#include "gather/revalidate.h"

struct xfer;
struct polite_host;

/* Seconds; all but queue count from the start of the last attempt. */
struct rec_times {
	double	queue;
	double	dns;
	double	connect;
	double	tls;
	double	ttfb;
	double	total;
};

/*
 * What a result's strings and buffers point into: the record's own, so
 * that nothing it says points into a transfer.  The body and -I's headers
 * are the transfer's buffers, handed over when it ends (buffers are
 * exchanged, not copied) and handed back when the transfer is returned.
 */
struct rec_store {
	struct buf	 effective_url;
	struct buf	 content_type;
	struct buf	 etag;
	struct buf	 last_modified;
	struct buf	 remote_ip;
	struct buf	 body;
	struct buf	 headers;
};

struct rec {
	/* The scheduling node: sched's. */
	uint64_t	 index;		/* position in the input */
	uint64_t	 seq;		/* position in the output */
	double		 t_read;	/* when the record was read */
	double		 t_start;	/* when its first attempt started */
	int		 attempts;
	struct polite_host *ph;		/* its host's politeness, or NULL */
	unsigned	 ph_epoch;	/* --adaptive: its host's at the start */
	int		 ph_busy;	/* counted in flight by ph */
	struct xfer	*xfer;		/* while a transfer runs */
	ev_timer	 retry_w;	/* waiting to retry, holding no slot */
	struct rec	*prev, *next;	/* in-flight or free list */

	/* The request: input's (its buffers are below). */
	size_t		 nheaders;	/* in headers */
	int		 has_body;
	int		 body_json;	/* body was a JSON object or array */
	double		 timeout;	/* < 0: the options' -t */
	int		 has_id;
	struct validators was;		/* --revalidate: sent as conditions */
	char		 sha256[65];	/* "sha256" to check, lower hex, or "" */

	/* -o: what outlives an attempt, for a retry that continues. */
	int		 part_kept;	/* NAME.part may be continued */
	int		 no_file;	/* no 2xx body: "file" is null */
	int		 part_whole;	/* a 416 said NAME.part was whole */

	/*
	 * Result of the last attempt: written by the transfer only
	 * (result.c), its pointers into store or NULL.
	 */
	long		 status;	/* 0 when no response */
	long		 http_version;	/* CURL_HTTP_VERSION_*, 0 = none */
	long		 redirects;
	uint64_t	 size;
	const char	*effective_url;	/* or NULL */
	const char	*content_type;
	const char	*etag;
	const char	*last_modified;
	const char	*remote_ip;	/* NULL: no connection was made */
	long		 remote_port;
	int		 connection_reused;
	int		 not_modified;	/* a 304 */
	const struct buf *resp_body;	/* NULL when not kept */
	const struct buf *resp_headers;	/* -I: "name\0value\0" each */
	size_t		 nresp_headers;
	struct rec_times time;
	char		 hash[HASH_SLOTS][129];	/* lower hex, "" = none */
	enum err_kind	 kind;
	int		 curl_code;	/* -1 when libcurl gave none */
	char		 msg[256];
	double		 retry_after;	/* seconds the server asked, or -1 */

	/*
	 * The buffers, last: rec_reset zeroes everything above and only
	 * empties these, so that their memory serves the next record.
	 */
	struct buf	 url;		/* as given, trimmed */
	struct buf	 method;	/* empty: the options' method */
	struct buf	 headers;	/* "K: V\0" each; nheaders of them */
	struct buf	 body;
	struct buf	 user;		/* "user": "USER:PASSWORD", or empty */
	struct buf	 bearer;	/* "bearer": a token, or empty */
	struct buf	 id;		/* raw JSON, echoed back untouched */
	struct buf	 file;		/* where -o writes the body */
	struct buf	 host;		/* --per-host: "host:port" */
	struct buf	 validator;	/* -o, If-Range: ETag or Last-Modified */
	struct rec_store store;		/* the result's */
};

void		 rec_reset(struct rec *);
void		 rec_free(struct rec *);
void		 rec_fail(struct rec *, enum err_kind, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

#endif
