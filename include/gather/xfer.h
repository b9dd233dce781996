/*
 * xfer: one transfer.  Each gets a fresh easy handle duplicated from a
 * template made once with the options that never change, and sets only
 * what is its own; its write callback keeps (or only counts) the body
 * under --max-body.  Transfers are pooled, their buffers kept from one to
 * the next.  When libcurl is done, xfer_finish turns the outcome into the
 * record's result; under -o, xfer_settle then renames or drops NAME.part
 * once the verdict (--expect included) is in.  How it is done is private
 * to src/xfer_int.h and the files it names.
 */
#ifndef GATHER_XFER_H
#define GATHER_XFER_H

#include <curl/curl.h>

#include "gather/cli.h"
#include "gather/rec.h"

/*
 * Receive buffers: this many bytes shared by the slots, each buffer
 * within 1 KiB (libcurl's least) and XFER_BUFFER_MAX: 128 KiB up to -c
 * 128, 1 KiB from -c 16384, where the buffer was the largest part of a
 * slot that gather decides (bench/RESULTS.md).
 */
#define XFER_BUFFER_BUDGET	(16L * 1024 * 1024)
#define XFER_BUFFER_MAX		(128L * 1024)

struct xfer;
struct xfer_pool;

struct files;

struct xfer_pool *xfer_pool_new(const struct opts *, struct files *);
void		 xfer_pool_free(struct xfer_pool *);

struct xfer	*xfer_get(struct xfer_pool *);
void		 xfer_put(struct xfer_pool *, struct xfer *);

int		 xfer_prepare(struct xfer *, struct rec *);
CURL		*xfer_easy(const struct xfer *);
struct xfer	*xfer_of(CURL *);
struct rec	*xfer_rec(const struct xfer *);
void		 xfer_finish(struct xfer *, CURLcode);
void		 xfer_fail_status(struct xfer *);
void		 xfer_settle(struct xfer *);

#endif
