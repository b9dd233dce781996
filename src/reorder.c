/*
 * reorder: the ring that puts lines back in input order.  Only lines that
 * must wait take memory: a short one is copied into a block of its size
 * class from a pool (blocks go back to the pool once written, so the ring
 * holds no more than the lines waiting at once, without the slack of the
 * caller's buffer); a long one is taken by swapping buffers with the
 * caller, so it is never copied, and freed once written.
 */
#include "gather/reorder.h"

#include <stdlib.h>
#include <string.h>

#include "gather/writer.h"

/*
 * Bytes of waiting lines past which no new record is admitted, whatever
 * room the window has: large embedded bodies fill memory long before a
 * window of small records would.
 */
#define HOLD_MAX	(64 * 1024 * 1024)

/* Lines up to POOL_MAX bytes wait in pool blocks of POOL_STEP multiples. */
#define POOL_STEP	128
#define POOL_MAX	4096
#define POOL_CLASSES	(POOL_MAX / POOL_STEP)

#define SLOT_EMPTY	0
#define SLOT_POOLED	1	/* line.p is a pool block, line.cap its size */
#define SLOT_SWAPPED	2	/* line is the caller's buffer */

struct slot {
	struct buf	line;
	int		ready;		/* SLOT_* */
};

/* A free pool block: its first bytes link it to the next of its class. */
struct block {
	struct block	*next;
};

struct reorder {
	struct writer	*w;
	struct slot	*slots;
	size_t		 cap;
	int		 unordered;	/* -u: write lines as they come */
	uint64_t	 head;		/* seq of the next line to write */
	size_t		 held;		/* bytes of lines waiting */
	struct block	*pool[POOL_CLASSES];	/* free blocks by class */
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

/* A pool block for a line of len bytes (0 < len <= POOL_MAX), or NULL. */
static char *
reorder_block(struct reorder *ro, size_t len, size_t *size)
{
	size_t		 c = (len - 1) / POOL_STEP;
	struct block	*b;

	*size = (c + 1) * POOL_STEP;
	if ((b = ro->pool[c]) != NULL) {
		ro->pool[c] = b->next;
		return (char *)b;
	}
	return malloc(*size);
}

/* Keep line in slot s until its turn: copied into a block, or taken. */
static void
reorder_keep(struct reorder *ro, struct slot *s, struct buf *line)
{
	struct buf	tmp;
	size_t		size;

	/* Without memory for a block the line itself is taken. */
	if (line->len > 0 && line->len <= POOL_MAX &&
	    (s->line.p = reorder_block(ro, line->len, &size)) != NULL) {
		memcpy(s->line.p, line->p, line->len);
		s->line.len = line->len;
		s->line.cap = size;
		s->ready = SLOT_POOLED;
	} else {
		tmp = s->line;
		s->line = *line;
		*line = tmp;
		buf_clear(line);
		s->ready = SLOT_SWAPPED;
	}
	ro->held += s->line.len;
}

/* Give back what slot s held once its line was written. */
static void
reorder_release(struct reorder *ro, struct slot *s)
{
	struct block *b;

	ro->held -= s->line.len;
	if (s->ready == SLOT_POOLED) {
		b = (struct block *)(void *)s->line.p;
		b->next = ro->pool[s->line.cap / POOL_STEP - 1];
		ro->pool[s->line.cap / POOL_STEP - 1] = b;
		s->line.p = NULL;
		s->line.len = s->line.cap = 0;
	} else
		buf_free(&s->line);
	s->ready = SLOT_EMPTY;
}

/*
 * Hand over the line of record seq.  Written now if it is the head (with
 * every waiting line after it), else kept (reorder_keep; the caller's
 * buffer may come back empty: without memory for a copy it is taken).
 * -1 when writing failed.
 */
int
reorder_put(struct reorder *ro, uint64_t seq, struct buf *line)
{
	struct slot *s;

	if (ro->unordered)
		return writer_emit(ro->w, line->p, line->len);
	if (seq != ro->head) {
		reorder_keep(ro, &ro->slots[seq % ro->cap], line);
		return 0;
	}
	if (writer_emit(ro->w, line->p, line->len) == -1)
		return -1;
	ro->head++;
	for (;;) {
		s = &ro->slots[ro->head % ro->cap];
		if (s->ready == SLOT_EMPTY)
			return 0;
		if (writer_emit(ro->w, s->line.p, s->line.len) == -1)
			return -1;
		reorder_release(ro, s);
		ro->head++;
	}
}

/* Free the ring and the lines it holds. */
void
reorder_free(struct reorder *ro)
{
	struct block	*b;
	size_t		 i;

	if (ro == NULL)
		return;
	for (i = 0; i < ro->cap; i++)
		if (ro->slots[i].ready != SLOT_EMPTY)
			reorder_release(ro, &ro->slots[i]);
	for (i = 0; i < POOL_CLASSES; i++)
		while ((b = ro->pool[i]) != NULL) {
			ro->pool[i] = b->next;
			free(b);
		}
	free(ro->slots);
	free(ro);
}
