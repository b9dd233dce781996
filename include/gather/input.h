/*
 * input: records from URL arguments and then from each -i file or stdin,
 * one per line, read without blocking the loop: a pipe is read only when its ev_io
 * says it is readable, and only when the scheduler asks for a record.
 */
#ifndef GATHER_INPUT_H
#define GATHER_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "gather/cli.h"
#include "gather/rec.h"

#define INPUT_LINE_MAX	(64 * 1024)

enum input_status {
	IN_RECORD,	/* r holds a record to fetch */
	IN_BAD,		/* r holds a record that already failed (bad_input) */
	IN_AGAIN,	/* nothing yet; the ready callback runs when there is */
	IN_EOF,		/* no more records */
	IN_ERROR	/* reading failed; input_error() says why */
};

typedef void	(*input_ready_fn)(void *);

struct input;

struct input	*input_new(struct ev_loop *, const struct opts *,
		    input_ready_fn, void *, char *, size_t);
enum input_status input_next(struct input *, struct rec *);
enum input_status input_parse_line(const char *, size_t, struct rec *);
int		 input_total(const struct input *, uint64_t *);
const char	*input_error(const struct input *);
void		 input_stop(struct input *);
void		 input_free(struct input *);

#endif
