/*
 * msg: every line gather says on stderr, after curl's tool_msgs.c (errorf,
 * warnf, notef).  Before this each module wrote its own fprintf, and only
 * some escaped what they quoted; here the formatted line is escaped whole
 * (text_printable) and written with one fwrite, so lines from a -v log and
 * from an error never interleave mid-line.  The texts the callers pass are
 * printable ASCII but for what they quote, so escaping the whole line
 * changes only the quoted parts.  The progress line is not a message: it
 * is drawn by stats.c with the terminal's own controls.
 */
#include "gather/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/buf.h"
#include "gather/text.h"

/* Most messages fit here; a longer one is formatted on the heap. */
#define MSG_STACK	512

/* Write prefix and the escaped text of fmt, ap as one line on stderr. */
static void __attribute__((format(printf, 2, 0)))
msg_line(const char *prefix, const char *fmt, va_list ap)
{
	struct buf	 b = { NULL, 0, 0 };
	char		 small[MSG_STACK], *text = small;
	va_list		 again;
	int		 n;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small) && (text = malloc((size_t)n + 1)) != NULL)
		vsnprintf(text, (size_t)n + 1, fmt, again);
	va_end(again);
	if (n >= 0 && text != NULL &&
	    buf_append(&b, prefix, strlen(prefix)) == 0 &&
	    text_printable(&b, text) == 0 && buf_append(&b, "\n", 1) == 0)
		fwrite(b.p, 1, b.len, stderr);
	else
		fputs("gather: out of memory\n", stderr);
	fflush(stderr);
	if (text != small)
		free(text);
	buf_free(&b);
}

/* An error: the run cannot do what was asked, or a part of it failed. */
void
msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_line("gather: ", fmt, ap);
	va_end(ap);
}

/* A warning: the run goes on, but something is likely not what was meant. */
void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_line("gather: warning: ", fmt, ap);
	va_end(ap);
}

/* A note: what -v or the terminal is told about the run as it goes. */
void
msg_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_line("gather: ", fmt, ap);
	va_end(ap);
}
