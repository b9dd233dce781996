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
#include "gather/err_kind.h"
#include "gather/text.h"

/* Most messages fit here; a longer one is formatted on the heap. */
#define MSG_STACK	512
/* The escaped line of a message that fits MSG_STACK: 4 bytes a byte. */
#define MSG_LINE	(4 * MSG_STACK + 64)

/* Running out of memory: whether it was said, and whether to say it. */
static int	msg_nomem_seen, msg_nomem_quiet;

/*
 * Escape s after prefix into out (of MSG_LINE bytes) as text_printable
 * does, newline ended, cut where it would not fit; its length.
 */
static size_t
msg_escape(char *out, const char *prefix, const char *s)
{
	const unsigned char	*p;
	size_t			 n = strlen(prefix);

	memcpy(out, prefix, n);
	for (p = (const unsigned char *)s; *p && n + 5 < MSG_LINE; p++)
		n += text_printable_byte(*p, out + n);
	out[n++] = '\n';
	return n;
}

/*
 * Write prefix and the escaped text of fmt, ap as one line on stderr.
 * Memory is needed only for a message longer than MSG_STACK; without it
 * the message is cut, never replaced by another.
 */
static void __attribute__((format(printf, 2, 0)))
msg_line(const char *prefix, const char *fmt, va_list ap)
{
	struct buf	 b = { NULL, 0, 0 };
	char		 small[MSG_STACK], *text = small, out[MSG_LINE];
	va_list		 again;
	size_t		 len;
	int		 n;

	va_copy(again, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n >= (int)sizeof(small) && (text = malloc((size_t)n + 1)) != NULL)
		vsnprintf(text, (size_t)n + 1, fmt, again);
	va_end(again);
	if (text == NULL)
		text = small;
	if (n < 0)
		snprintf(text = small, sizeof(small), "%s", fmt);
	if (text != small && buf_append(&b, prefix, strlen(prefix)) == 0 &&
	    text_printable(&b, text) == 0 && buf_append(&b, "\n", 1) == 0)
		fwrite(b.p, 1, b.len, stderr);
	else {
		len = msg_escape(out, prefix, text);
		fwrite(out, 1, len, stderr);
	}
	fflush(stderr);
	if (text != small)
		free(text);
	buf_free(&b);
}

/*
 * The run cannot go on for want of memory: "gather: out of memory", said
 * once however many parts ran out; a -j worker leaves it to the parent.
 */
void
msg_nomem(void)
{
	if (!msg_nomem_seen && !msg_nomem_quiet)
		fputs("gather: out of memory\n", stderr);
	msg_nomem_seen = 1;
}

/* A -j worker: msg_nomem says nothing, the worker's exit status tells. */
void
msg_nomem_hold(void)
{
	msg_nomem_quiet = 1;
}

/* Whether msg_nomem was called. */
int
msg_nomem_said(void)
{
	return msg_nomem_seen;
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

/*
 * Say why the run cannot go on, err; the exit status, status, but 1 when
 * the reason is memory, which is no fault of the command line or input.
 */
int
msg_refuse(const char *err, int status)
{
	if (strcmp(err, "out of memory") != 0) {
		msg_error("%s", err);
		return status;
	}
	msg_nomem();
	return EXIT_SOME_FAILED;
}
