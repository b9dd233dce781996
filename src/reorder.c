/*
 * reorder: the ring that puts lines back in input order.  Slots hold
 * formatted lines by swapping buffers with the caller, so a line that must
 * wait is never copied, and a slot's memory is reused by the records that
 * pass through it.
 */
#include "gather/reorder.h"

#include <stdlib.h>

#include "gather/writer.h"

/* A waiting line larger than this gives its memory back once written. */
#define SLOT_KEEP	(64 * 1024)

/*
 * Bytes of waiting lines past which no new record is admitted, whatever
 * room the window has: large embedded bodies fill memory long before a
 * window of small records would.
 */
#define HOLD_MAX	(64 * 1024 * 1024)

struct slot {
	struct buf	line;
	int		ready;
};

struct reorder {
	struct writer	*w;
	struct slot	*slots;
	size_t		 cap;
	int		 unordered;	/* -u: write lines as they come */
	uint64_t	 head;		/* seq of the next line to write */
	size_t		 held;		/* bytes of lines waiting */
};

/* A ring of cap lines (none with unordered) in front of w. */
struct reorder *
reorder_new(size_t cap, int unordered, struct writer *w)
{
	struct reorder *ro;

	if ((ro = calloc(1, sizeof(*ro))) == NULL)
		return NULL;
	if ((ro->slots = calloc(cap, sizeof(*ro->slots))) == NULL) {
		free(ro);
		return NULL;
	}
	ro->cap = cap;
	ro->unordered = unordered;
	ro->w = w;
	return ro;
}

/* Whether a record numbered seq fits in the window. */
int
reorder_room(const struct reorder *ro, uint64_t seq)
{
	return ro->unordered || (seq - ro->head < ro->cap && ro->held < HOLD_MAX);
}

/*
 * Hand over the line of record seq.  Written now if it is the head (with
 * every waiting line after it), else kept: line is swapped with the slot's
 * empty buffer.  -1 when writing failed.
 */
int
reorder_put(struct reorder *ro, uint64_t seq, struct buf *line)
{
	struct slot	*s;
	struct buf	 tmp;

	if (ro->unordered)
		return writer_emit(ro->w, line->p, line->len);
	if (seq != ro->head) {
		s = &ro->slots[seq % ro->cap];
		tmp = s->line;
		s->line = *line;
		*line = tmp;
		buf_clear(line);
		s->ready = 1;
		ro->held += s->line.len;
		return 0;
	}
	if (writer_emit(ro->w, line->p, line->len) == -1)
		return -1;
	ro->head++;
	for (;;) {
		s = &ro->slots[ro->head % ro->cap];
		if (!s->ready)
			return 0;
		if (writer_emit(ro->w, s->line.p, s->line.len) == -1)
			return -1;
		s->ready = 0;
		ro->held -= s->line.len;
		buf_clear(&s->line);
		buf_trim_capacity(&s->line, SLOT_KEEP);
		ro->head++;
	}
}

/* Free the ring and the lines it holds. */
void
reorder_free(struct reorder *ro)
{
	size_t i;

	if (ro == NULL)
		return;
	for (i = 0; i < ro->cap; i++)
		buf_free(&ro->slots[i].line);
	free(ro->slots);
	free(ro);
}
