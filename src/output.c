/*
 * output: the one stage a finished record goes through on its way out.
 * The scheduler used to choose between the JSON line, a -j worker's line,
 * a TAP case and the --junit report itself, and to flush and finish
 * stdout; here those choices sit together, and a failed write becomes
 * ends_output_failed (which stops the run) instead of a return value the
 * scheduler must pass on.  Once the output is dead nothing more is
 * formatted: a reader that left costs no work.
 */
#include "gather/output.h"

#include <errno.h>
#include <stdlib.h>

#include "gather/ends.h"
#include "gather/junit.h"
#include "gather/record.h"
#include "gather/reorder.h"
#include "gather/writer.h"

struct output {
	enum format	 format;
	struct ends	*ends;
	struct record	*record;	/* formats a record into the reorder */
	struct reorder	*reorder;
	struct writer	*writer;
	struct junit	*junit;		/* NULL without --junit */
	struct buf	 tapcase;	/* --format tap: the case made */
	int		 nomem;		/* it stopped for want of memory */
};

/* The stage for o over the parts main made; NULL when out of memory. */
struct output *
output_new(const struct opts *o, struct ends *e, struct record *rec,
    struct reorder *ro, struct writer *w, struct junit *j)
{
	struct output *out;

	if ((out = calloc(1, sizeof(*out))) == NULL)
		return NULL;
	out->format = o->format;
	out->ends = e;
	out->record = rec;
	out->reorder = ro;
	out->writer = w;
	out->junit = j;
	return out;
}

/*
 * r's JSON line into the reorder: line when a -j worker formatted it.
 * *why says why an error record went out in place of r's.
 */
static int
output_line(struct output *out, const struct rec *r, struct buf *line,
    const char **why)
{
	int rc;

	if (line != NULL)
		return reorder_put(out->reorder, r->seq, line);
	rc = record_put(out->record, r);
	*why = record_replaced(out->record);
	return rc;
}

/*
 * r's output, -1 with errno when it could not be handed on: its JSON
 * line, or under --format tap its test case; and its case in the --junit
 * report.  A -j worker's record comes with its line, and r then holds
 * what the line says of its outcome (jobs.c reads it back).  *why says
 * why an error record went out in place of r's, else stays NULL.
 */
static int
output_emit(struct output *out, const struct rec *r, struct buf *line,
    const char **why)
{
	struct outcome oc;

	if (out->junit == NULL && out->format != FORMAT_TAP)
		return ends_output_dead(out->ends) ? 0 :
		    output_line(out, r, line, why);
	writer_outcome(r, &oc);
	(void)junit_add(out->junit, &oc);	/* junit_finish tells */
	if (ends_output_dead(out->ends))
		return 0;
	if (out->format != FORMAT_TAP)
		return output_line(out, r, line, why);
	if (writer_tap_case(&out->tapcase, &oc) == -1) {
		/* As a JSON line would be: an error record in its place. */
		oc.ok = 0;
		oc.kind = err_kind_name(ERR_OTHER);
		oc.msg = *why = "out of memory formatting the record";
		if (writer_tap_case(&out->tapcase, &oc) == -1) {
			errno = ENOMEM;
			return -1;
		}
	}
	return reorder_put(out->reorder, r->seq, &out->tapcase);
}

/*
 * Take finished r (or line, a worker's record of it) to be written in
 * order: NULL, or why an error record went in its place (no memory to
 * format it, or too large), which makes it a failed record.
 */
const char *
output_put(struct output *out, const struct rec *r, struct buf *line)
{
	const char *why = NULL;

	if (output_emit(out, r, line, &why) == -1) {
		out->nomem |= errno == ENOMEM;
		ends_output_failed(out->ends, errno);
	}
	return why;
}

/* Whether the record numbered seq would fit in the reorder window. */
int
output_room(const struct output *out, uint64_t seq)
{
	return reorder_room(out->reorder, seq);
}

/* How many bytes of formatted records wait to be written. */
size_t
output_pending(const struct output *out)
{
	return writer_pending(out->writer);
}

/* Write what is pending, so that output streams while the loop waits. */
void
output_flush(struct output *out)
{
	if (!ends_output_dead(out->ends) && writer_flush(out->writer) == -1)
		ends_output_failed(out->ends, errno);
}

/*
 * The run is over: write the rest and end the output as its format ends;
 * also when memory stopped it, so that what was written is whole.
 */
void
output_finish(struct output *out)
{
	if ((!ends_output_dead(out->ends) || out->nomem) &&
	    writer_finish(out->writer) == -1)
		ends_output_failed(out->ends, errno);
}

/* Free the stage; the parts it was given belong to main. */
void
output_free(struct output *out)
{
	if (out == NULL)
		return;
	buf_free(&out->tapcase);
	free(out);
}
