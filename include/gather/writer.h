/*
 * writer: the output's framing and its writes.  jsonl is one record per
 * line; --format json is one array, closed however the run ends;
 * --format tap is TAP version 13, numbered in output order, its plan
 * written last however the run ends.  A failing write is -1 with errno:
 * EPIPE when the reader left.
 */
#ifndef GATHER_WRITER_H
#define GATHER_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "gather/buf.h"
#include "gather/cli.h"

struct rec;

/*
 * One finished record as a test report sees it (TAP here, JUnit in
 * junit.h): what a record line's fields say, so that a module holding
 * only the printed lines can fill one too.  Strings are borrowed.
 */
struct outcome {
	uint64_t	 index;
	const char	*url;
	size_t		 url_len;
	int		 ok;
	const char	*kind;		/* error.kind, NULL when ok */
	const char	*msg;		/* error.message, NULL when ok */
	long		 status;	/* 0 when there was no response */
	long		 attempts;
	double		 time;		/* time.total, seconds */
};

struct writer;

struct writer	*writer_new(enum format, int);
int		 writer_emit(struct writer *, const char *, size_t);
int		 writer_write(int, const char *, size_t);
int		 writer_emit_more(struct writer *, const char *, size_t);
int		 writer_flush(struct writer *);
size_t		 writer_pending(const struct writer *);
int		 writer_finish(struct writer *);
void		 writer_free(struct writer *);

void		 writer_outcome(const struct rec *, struct outcome *);
int		 writer_tap_case(struct buf *, const struct outcome *);
int		 writer_emit_outcome(struct writer *, const struct outcome *);

#endif
