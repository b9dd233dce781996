/*
 * gather: the reorder ring.  Slots hold formatted lines by swapping
 * buffers with the caller, so a line that must wait is never copied, and
 * a slot's memory is reused by the records that pass through it.
 */
#include "gather/gather.h"

#include <stdlib.h>

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

struct gather {
	struct out	*out;
	struct slot	*slots;
	size_t		 cap;
	int		 unordered;	/* -u: write lines as they come */
	uint64_t	 head;		/* seq of the next line to write */
	size_t		 held;		/* bytes of lines waiting */
};

struct gather *
gather_new(size_t cap, int unordered, struct out *out)
{
	struct gather *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->slots = calloc(cap, sizeof(*g->slots))) == NULL) {
		free(g);
		return NULL;
	}
	g->cap = cap;
	g->unordered = unordered;
	g->out = out;
	return g;
}

/* Whether a record numbered seq fits in the window. */
int
gather_room(const struct gather *g, uint64_t seq)
{
	return g->unordered || (seq - g->head < g->cap && g->held < HOLD_MAX);
}

/*
 * Hand over the line of record seq.  Written now if it is the head (with
 * every waiting line after it), else kept: line is swapped with the slot's
 * empty buffer.  -1 when writing failed.
 */
int
gather_put(struct gather *g, uint64_t seq, struct buf *line)
{
	struct slot	*s;
	struct buf	 tmp;

	if (g->unordered)
		return out_emit(g->out, line->p, line->len);
	if (seq != g->head) {
		s = &g->slots[seq % g->cap];
		tmp = s->line;
		s->line = *line;
		*line = tmp;
		buf_clear(line);
		s->ready = 1;
		g->held += s->line.len;
		return 0;
	}
	if (out_emit(g->out, line->p, line->len) == -1)
		return -1;
	g->head++;
	for (;;) {
		s = &g->slots[g->head % g->cap];
		if (!s->ready)
			return 0;
		if (out_emit(g->out, s->line.p, s->line.len) == -1)
			return -1;
		s->ready = 0;
		g->held -= s->line.len;
		buf_clear(&s->line);
		buf_trim_capacity(&s->line, SLOT_KEEP);
		g->head++;
	}
}

void
gather_free(struct gather *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->cap; i++)
		buf_free(&g->slots[i].line);
	free(g->slots);
	free(g);
}
