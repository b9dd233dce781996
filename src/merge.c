/*
 * merge: a streaming k-way merge by index of earlier outputs.  Each file
 * is read by earlier.c (the reader and strict check behind --resume) and
 * holds one pending record; a binary heap ordered by (index, file given
 * last first) picks the next record to write, and every other file with
 * that index drops its record.  Memory is one line per file, whatever the
 * files' lengths: a line over the reader's bound is written from its kept
 * head and then streamed from its file.
 */
#include "gather/merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/buf.h"
#include "gather/earlier.h"
#include "gather/ends.h"
#include "gather/text.h"

/* One file of the merge and its pending record. */
struct src {
	struct earlier		*rd;
	const char		*path;
	size_t			 no;		/* its place on the command line */
	struct earlier_rec	 e;
	uint64_t		 last;		/* the index before, in this file */
	int			 any;		/* last is set */
};

struct merge {
	struct src		*v;
	size_t			 n;
	struct src	       **heap;
	size_t			 nheap;
	struct writer		*w;
	struct buf		 line;		/* a record and its newline */
	int			 failed;	/* a record written was not ok */
	int			 werr;		/* a write failed: errno */
	char			 err[512];
};

/* "gather: msg" on stderr as one line, whatever bytes msg holds. */
static void
merge_say(const char *msg)
{
	struct buf b = { NULL, 0, 0 };

	if (buf_append(&b, "gather: ", 8) == 0 && text_printable(&b, msg) == 0 &&
	    buf_append(&b, "\n", 1) == 0)
		fwrite(b.p, 1, b.len, stderr);
	buf_free(&b);
}

/* Whether a goes before b: the lower index, then the file given later. */
static int
merge_before(const struct src *a, const struct src *b)
{
	if (a->e.index != b->e.index)
		return a->e.index < b->e.index;
	return a->no > b->no;
}

/* Put s on the heap. */
static void
merge_push(struct merge *m, struct src *s)
{
	size_t i = m->nheap++, up;

	while (i > 0 && merge_before(s, m->heap[up = (i - 1) / 2])) {
		m->heap[i] = m->heap[up];
		i = up;
	}
	m->heap[i] = s;
}

/* Take the first file off the heap. */
static struct src *
merge_pop(struct merge *m)
{
	struct src	*top = m->heap[0], *s;
	size_t		 i = 0, c;

	s = m->heap[--m->nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= m->nheap)
			break;
		if (c + 1 < m->nheap && merge_before(m->heap[c + 1],
		    m->heap[c]))
			c++;
		if (!merge_before(m->heap[c], s))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->nheap > 0)
		m->heap[i] = s;
	return top;
}

/*
 * The next record of s onto the heap, unless its file has ended; -1
 * (reason in m->err) when it is not a record or not ordered by index,
 * -2 when out of memory.
 */
static int
merge_advance(struct merge *m, struct src *s)
{
	int rc;

	if ((rc = earlier_pull(s->rd, &s->e, m->err, sizeof(m->err))) <= 0)
		return rc;
	if (s->any && s->e.index <= s->last) {
		snprintf(m->err, sizeof(m->err), "--merge: '%s' line %lu: index "
		    "%llu after %llu; each file must be ordered by index (an "
		    "-u output is not)", s->path, earlier_lineno(s->rd),
		    (unsigned long long)s->e.index,
		    (unsigned long long)s->last);
		return -1;
	}
	s->last = s->e.index;
	s->any = 1;
	merge_push(m, s);
	return 0;
}

/* Write part of a long line that earlier_rest hands over. */
static int
merge_more(void *arg, const char *p, size_t n)
{
	struct merge *m = arg;

	if (writer_emit_more(m->w, p, n) == -1) {
		m->werr = errno;
		return -1;
	}
	return 0;
}

/*
 * Write the record s holds; -1 when a write failed (errno in m->werr),
 * -2 when out of memory, -3 when its file ended inside it (m->err).
 */
static int
merge_write(struct merge *m, struct src *s)
{
	int rc;

	m->failed |= !s->e.ok;
	if (s->e.cut) {
		if (writer_emit(m->w, s->e.text.p, s->e.text.n) == -1) {
			m->werr = errno;
			return -1;
		}
		if ((rc = earlier_rest(s->rd, merge_more, m)) == -1 &&
		    m->werr == 0) {
			snprintf(m->err, sizeof(m->err), "--merge: cannot read "
			    "'%s': %s", s->path, strerror(errno));
			return -3;
		}
		if (rc == -1)
			return -1;
		if (rc == 1) {
			snprintf(m->err, sizeof(m->err), "--merge: '%s' line "
			    "%lu is cut short", s->path,
			    earlier_lineno(s->rd));
			return -3;
		}
		if (writer_emit_more(m->w, "\n", 1) == -1) {
			m->werr = errno;
			return -1;
		}
		return 0;
	}
	buf_clear(&m->line);
	if (buf_append(&m->line, s->e.text.p, s->e.text.n) == -1 ||
	    buf_append(&m->line, "\n", 1) == -1) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -2;
	}
	if (writer_emit(m->w, m->line.p, m->line.len) == -1) {
		m->werr = errno;
		return -1;
	}
	return 0;
}

/* Open every file and take its first record; the exit status or -1. */
static int
merge_open(struct merge *m, const struct opts *o)
{
	static const struct earlier_spec spec = { .opt = "--merge",
	    .cut = "\"status\"", .dash = 1 };
	size_t	i;
	int	rc;

	m->n = o->nurls;
	if ((m->v = calloc(m->n, sizeof(*m->v))) == NULL ||
	    (m->heap = calloc(m->n, sizeof(*m->heap))) == NULL) {
		merge_say("out of memory");
		return EXIT_SOME_FAILED;
	}
	for (i = 0; i < m->n; i++) {
		m->v[i].path = o->urls[i];
		m->v[i].no = i;
		if ((m->v[i].rd = earlier_open(o->urls[i], &spec, m->err,
		    sizeof(m->err))) == NULL) {
			merge_say(m->err);
			return EXIT_USAGE;
		}
		if ((rc = merge_advance(m, &m->v[i])) < 0) {
			merge_say(m->err);
			return rc == -2 ? EXIT_SOME_FAILED : EXIT_USAGE;
		}
	}
	return -1;
}

/* Merge until every file has ended; the exit status. */
static int
merge_loop(struct merge *m)
{
	struct src	*top;
	int		 rc;

	while (m->nheap > 0) {
		top = merge_pop(m);
		/* The same index in files given before: theirs is replaced. */
		while (m->nheap > 0 && m->heap[0]->e.index == top->e.index)
			if ((rc = merge_advance(m, merge_pop(m))) < 0)
				goto bad;
		if ((rc = merge_write(m, top)) == -1)
			goto werr;
		if (rc < 0 || (rc = merge_advance(m, top)) < 0)
			goto bad;
	}
	if (writer_finish(m->w) == -1) {
		m->werr = errno;
		goto werr;
	}
	return m->failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
werr:
	if (m->werr == EPIPE)
		return EXIT_SIGPIPE;
	fprintf(stderr, "gather: cannot write output: %s\n",
	    strerror(m->werr));
	return EXIT_SOME_FAILED;
bad:
	writer_finish(m->w);
	merge_say(m->err);
	return rc == -2 ? EXIT_SOME_FAILED : EXIT_USAGE;
}

/* Run --merge over the files of o, writing through w; the exit status. */
int
merge_run(const struct opts *o, struct writer *w)
{
	struct merge	m;
	size_t		i;
	int		status;

	memset(&m, 0, sizeof(m));
	m.w = w;
	if ((status = merge_open(&m, o)) == -1)
		status = merge_loop(&m);
	for (i = 0; m.v != NULL && i < m.n; i++)
		earlier_close(m.v[i].rd);
	free(m.v);
	free(m.heap);
	buf_free(&m.line);
	return status;
}
