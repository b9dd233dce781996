/*
 * rec: one input record on its way through gather, from the line that was
 * read to the JSON record that is written.  It has three parts, each with
 * one writer: the request (req) is input's, the result of the last attempt
 * (res) the transfer's, and -o's carry-over (save) the -o code's; what the
 * scheduler says of it (seq, attempts, queue) is the scheduler's, whose
 * own node (links, timer, transfer, host) wraps the record in sched.c and
 * is seen nowhere else.  The output stage only reads a record.  Records
 * are pooled and recycled: nothing here is allocated per record, and the
 * buffers keep their memory from one record to the next (rec_reset); what
 * few records use (a digest, a failure's message) is held only once used.
 */
#ifndef GATHER_REC_H
#define GATHER_REC_H

#include <stdint.h>

#include "gather/buf.h"
#include "gather/digest.h"
#include "gather/err_kind.h"
#include "gather/revalidate.h"

/* A digest in lower hex with its NUL; a message's most, NUL included. */
#define REC_HASH_LEN	129
#define REC_MSG_MAX	256

/* Seconds from the start of the last attempt. */
struct rec_times {
	double	dns;
	double	connect;
	double	tls;
	double	ttfb;
	double	total;
};

/*
 * The request: written by input alone (input.c, reqobj.c, its --revalidate
 * filter, a -j worker's feed), read by the transfer and the output.
 */
struct rec_req {
	uint64_t	 index;		/* position in the input */
	size_t		 nheaders;	/* in headers */
	double		 timeout;	/* < 0: the options' -t */
	int		 has_body;
	int		 body_json;	/* body was a JSON object or array */
	int		 has_id;
	struct validators was;		/* --revalidate: sent as conditions */
	char		 sha256[65];	/* "sha256" to check, lower hex, or "" */

	/* Buffers last: rec_reset zeroes what is above and empties these. */
	struct buf	 url;		/* as given, trimmed */
	struct buf	 method;	/* empty: the options' method */
	struct buf	 headers;	/* "K: V\0" each; nheaders of them */
	struct buf	 body;
	struct buf	 user;		/* "user": "USER:PASSWORD", or empty */
	struct buf	 bearer;	/* "bearer": a token, or empty */
	struct buf	 id;		/* raw JSON, echoed back untouched */
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

/*
 * The result of the last attempt: written by the transfer's result code
 * (result.c, digest.c, xfer_finish; a -j parent's jobs.c reads a worker's
 * back), kind, curl_code and msg only through rec_fail and its siblings.
 * Its pointers point into store (or at req.url) or are NULL.
 */
struct rec_res {
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
	double		 retry_after;	/* seconds the server asked, or -1 */
	enum err_kind	 kind;		/* rec_fail's */
	int		 curl_code;	/* rec_fail's; -1: libcurl gave none */
	int		 msg_nomem;	/* no room for the message: rec_msg
					   says "out of memory" */

	/*
	 * Kept from one record to the next, and held only once used, so that
	 * a slot pays for no digest without --hash and for no message until
	 * a record of its fails: rec_reset empties them rather than freeing.
	 */
	char		(*hash)[REC_HASH_LEN];	/* NULL, or HASH_SLOTS of lower
						   hex, "" = none (digest.c) */
	struct buf	 msg;		/* rec_fail's; read it by rec_msg */
	struct rec_store store;
};

/*
 * -o's carry-over.  Neither request nor result: input never writes these
 * (the name is chosen when the first attempt starts), and unlike the
 * result they outlive an attempt, so that a retry continues the NAME.part
 * the last one left, under the same name and If-Range.  Written by -o's
 * own code alone (files.c, part.c), read by the output.
 */
/* -j: whether the first process chose the name in file, and for what. */
enum claim {
	CLAIM_NONE,			/* not yet: the first attempt chooses */
	CLAIM_NAME,			/* chosen there: fetch plainly */
	CLAIM_FILE			/* this URL's file there: revalidate */
};

struct rec_save {
	enum claim	 claimed;
	int		 part_kept;	/* NAME.part may be continued */
	int		 no_file;	/* no 2xx body: "file" is null */
	int		 part_whole;	/* a 416 said NAME.part was whole */

	/* Buffers last, as in the request. */
	struct buf	 file;		/* where -o writes the body */
	struct buf	 validator;	/* If-Range: ETag or Last-Modified */
};

struct rec {
	/* The scheduler's: where the record stands (a -j parent's jobs.c
	   reads attempts back from a worker). */
	uint64_t	 seq;		/* position in the output */
	int		 attempts;
	double		 queue;		/* seconds from read to first start */

	struct rec_req	 req;
	struct rec_res	 res;
	struct rec_save	 save;
};

void		 rec_reset(struct rec *);
void		 rec_free_bufs(struct rec *);
void		 rec_fail(struct rec *, enum err_kind, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 rec_fail_curl(struct rec *, enum err_kind, int, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
void		 rec_unfail(struct rec *);
const char	*rec_msg(const struct rec *);
enum err_kind	 rec_io_kind(const char *);

#endif
