/*
 * expect: --expect EXPR, each a jq program compiled once into its own
 * jq_state.  A record that is otherwise ok is formatted as it would be
 * printed, parsed once into a jv, and each program's first output is
 * taken: false, null, no output or an error fails the record as kind
 * expectation, naming the expression and jq's message.  The scheduler
 * calls this only when some expression was given, so runs without
 * --expect never format twice and never touch libjq.
 */
#include "gather/expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "gather/buf.h"
#include "gather/record.h"
#include "gather/text.h"

/* Longest piece of an expression or of jq's message quoted in one. */
#define EXPECT_QUOTE	80

struct expect {
	jq_state	**jq;		/* one compiled program each */
	const char	**src;		/* the expressions as given */
	size_t		  n;
	struct buf	  line;		/* the record as it would be printed */
	char		  jqerr[256];	/* the first message jq reported */
};

/* jq's error callback: keep the first message for the usage error. */
static void
expect_error_cb(void *arg, jv msg)
{
	struct expect	*e = arg;
	size_t		 n;
	jv		 s;

	if (e->jqerr[0] == '\0') {
		s = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) :
		    jv_dump_string(jv_copy(msg), 0);
		/* Its first line: the rest quotes the expression again. */
		n = strcspn(jv_string_value(s), "\n");
		if (n > 0 && jv_string_value(s)[n - 1] == ':')
			n--;
		snprintf(e->jqerr, sizeof(e->jqerr), "%.*s", (int)n,
		    jv_string_value(s));
		jv_free(s);
	}
	jv_free(msg);
}

/* s cut to at most max bytes on a UTF-8 boundary, as a length. */
static int
expect_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		n = utf8_valid_prefix((const unsigned char *)s, max);
	return (int)n;
}

/*
 * Compile the n expressions in src; NULL with a one-line reason in err
 * (an expression that does not compile, named with jq's message, or no
 * memory).  The strings must outlive the result.
 */
struct expect *
expect_new(char *const *src, size_t n, char *err, size_t errlen)
{
	struct expect	*e;
	size_t		 i;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->jq = calloc(n, sizeof(*e->jq))) == NULL ||
	    (e->src = calloc(n, sizeof(*e->src))) == NULL) {
		snprintf(err, errlen, "out of memory");
		expect_free(e);
		return NULL;
	}
	e->n = n;
	for (i = 0; i < n; i++) {
		e->src[i] = src[i];
		if ((e->jq[i] = jq_init()) == NULL) {
			snprintf(err, errlen, "out of memory");
			expect_free(e);
			return NULL;
		}
		e->jqerr[0] = '\0';
		jq_set_error_cb(e->jq[i], expect_error_cb, e);
		if (!jq_compile(e->jq[i], src[i])) {
			snprintf(err, errlen, "--expect '%.*s': %s", expect_cut(
			    src[i], EXPECT_QUOTE), src[i], e->jqerr[0] ?
			    e->jqerr : "does not compile");
			expect_free(e);
			return NULL;
		}
	}
	return e;
}

/* Free the programs and the scratch line. */
void
expect_free(struct expect *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; e->jq != NULL && i < e->n; i++)
		if (e->jq[i] != NULL)
			jq_teardown(&e->jq[i]);
	free(e->jq);
	free(e->src);
	buf_free(&e->line);
	free(e);
}

/* jq's message from the invalid value v (consumed) into msg, or "". */
static void
expect_jq_msg(jv v, char *msg, size_t len)
{
	jv m;

	msg[0] = '\0';
	if (!jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		return;
	}
	m = jv_invalid_get_msg(v);
	if (jv_get_kind(m) != JV_KIND_STRING)
		m = jv_dump_string(m, 0);
	snprintf(msg, len, "%s", jv_string_value(m));
	jv_free(m);
}

/*
 * Run program i on in (borrowed): 1 when its first output is neither
 * false nor null, else 0 with why in msg.
 */
static int
expect_run(struct expect *e, size_t i, jv in, char *msg, size_t len)
{
	char		jqmsg[192];
	const char	*what;
	jv		out;
	jv_kind		k;

	jq_start(e->jq[i], jv_copy(in), 0);
	out = jq_next(e->jq[i]);
	if ((k = jv_get_kind(out)) != JV_KIND_INVALID) {
		jv_free(out);
		if (k != JV_KIND_FALSE && k != JV_KIND_NULL)
			return 1;
		what = k == JV_KIND_FALSE ? "false" : "null";
		snprintf(msg, len, "expectation failed: %.*s gave %s",
		    expect_cut(e->src[i], EXPECT_QUOTE), e->src[i], what);
		return 0;
	}
	expect_jq_msg(out, jqmsg, sizeof(jqmsg));
	if (jqmsg[0] == '\0')
		snprintf(msg, len, "expectation failed: %.*s gave no output",
		    expect_cut(e->src[i], EXPECT_QUOTE), e->src[i]);
	else
		snprintf(msg, len, "expectation failed: %.*s: jq error: %.*s",
		    expect_cut(e->src[i], EXPECT_QUOTE), e->src[i],
		    expect_cut(jqmsg, EXPECT_QUOTE * 2), jqmsg);
	return 0;
}

/*
 * Evaluate every expression on the record text line (n bytes of JSON): 1
 * when all hold, 0 with why in msg (the first that did not), -1 when the
 * text is no JSON libjq reads.
 */
int
expect_line(struct expect *e, const char *line, size_t n, char *msg,
    size_t len)
{
	size_t	i;
	int	ok = 1;
	jv	in;

	if (n > (size_t)0x7fffffff) {
		snprintf(msg, len, "expectation: record too large for jq");
		return -1;
	}
	in = jv_parse_sized(line, (int)n);
	if (!jv_is_valid(in)) {
		jv_free(in);
		snprintf(msg, len, "expectation: jq could not read the record");
		return -1;
	}
	for (i = 0; ok && i < e->n; i++)
		ok = expect_run(e, i, in, msg, len);
	jv_free(in);
	return ok;
}

/*
 * Check r, which is otherwise ok, formatted by rf: 1 when every
 * expression holds; else 0 and r has failed as kind expectation, its
 * hash dropped as on any failed record.
 */
int
expect_rec(struct expect *e, struct record *rf, struct rec *r)
{
	char	msg[sizeof(r->msg)];
	int	rc;

	if (record_format(rf, r, &e->line) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory formatting the record");
		return 0;
	}
	if ((rc = expect_line(e, e->line.p, e->line.len, msg, sizeof(msg))) ==
	    1) {
		buf_trim_capacity(&e->line, 256 * 1024);
		return 1;
	}
	buf_trim_capacity(&e->line, 256 * 1024);
	r->kind = rc == -1 ? ERR_OTHER : ERR_EXPECTATION;
	r->curl_code = -1;
	memcpy(r->msg, msg, sizeof(r->msg));
	memset(r->hash, 0, sizeof(r->hash));
	return 0;
}
