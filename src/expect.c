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
#include "gather/json.h"
#include "gather/record.h"
#include "gather/text.h"

/* Longest piece of an expression or of jq's message quoted in one. */
#define EXPECT_QUOTE	80

/* Object keys remembered from one record to the next, and their length. */
#define EXPECT_KEYS	48
#define EXPECT_KEYLEN	24

/* A key as the last record had it in this place, ready as a jv. */
struct expect_key {
	char	txt[EXPECT_KEYLEN];
	size_t	n;
	jv	key;
};

struct expect {
	jq_state	**jq;		/* one compiled program each */
	const char	**src;		/* the expressions as given */
	size_t		  n;
	struct buf	  line;		/* the record as it would be printed */
	struct buf	  str;		/* a string being unescaped */
	struct expect_key keys[EXPECT_KEYS];	/* by their place in a line */
	size_t		  nkeys;	/* keys read in this line so far */
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
	buf_free(&e->str);
	for (i = 0; i < EXPECT_KEYS; i++)
		if (e->keys[i].n > 0)
			jv_free(e->keys[i].key);
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
		snprintf(msg, len, "expected %.*s, got %s",
		    expect_cut(e->src[i], EXPECT_QUOTE), e->src[i], what);
		return 0;
	}
	expect_jq_msg(out, jqmsg, sizeof(jqmsg));
	if (jqmsg[0] == '\0')
		snprintf(msg, len, "expected %.*s, got no output",
		    expect_cut(e->src[i], EXPECT_QUOTE), e->src[i]);
	else
		snprintf(msg, len, "expected %.*s, got jq error: %.*s",
		    expect_cut(e->src[i], EXPECT_QUOTE), e->src[i],
		    expect_cut(jqmsg, EXPECT_QUOTE * 2), jqmsg);
	return 0;
}

/*
 * The record line becomes a jv here rather than through jv_parse_sized:
 * the line is gather's own strict JSON, so a plain descent over it does,
 * measured, a quarter of the work of jq 1.6's parser for the same value
 * (numbers through strtod, correctly rounded as jq's own).  Anything it
 * does not expect is an invalid jv, and the line then goes to jq's parser.
 */
static jv	expect_value(struct expect *, const char **, const char *, int);

/* Skip JSON white space. */
static const char *
expect_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The JSON string at *pp (its opening quote) as a jv string. */
static jv
expect_string(struct expect *e, const char **pp, const char *end)
{
	const char	*q = *pp, *p = q + 1;
	int		 esc = 0;

	while (p < end && *p != '"') {
		if (*p == '\\') {
			esc = 1;
			p++;
		}
		p++;
	}
	if (p >= end || p - q > 0x7fffffff)
		return jv_invalid();
	*pp = p + 1;
	if (!esc)
		return jv_string_sized(q + 1, (int)(p - q - 1));
	buf_clear(&e->str);
	if (json_unescape(&e->str, q, (size_t)(p + 1 - q)) == -1 ||
	    e->str.len > 0x7fffffff)
		return jv_invalid();
	return jv_string_sized(e->str.p ? e->str.p : "", (int)e->str.len);
}

/*
 * An object key at *pp as a jv string.  Every record has the same keys in
 * the same places, so the string made for the key in this place last time
 * is used again when the text is the same (its hash, which jq keeps in
 * the string, too): no allocation and no UTF-8 check for the usual key.
 */
static jv
expect_key(struct expect *e, const char **pp, const char *end)
{
	struct expect_key	*k;
	const char		*q = *pp + 1, *p;
	size_t			 n;

	p = memchr(q, '"', (size_t)(end - q) < EXPECT_KEYLEN + 1 ?
	    (size_t)(end - q) : EXPECT_KEYLEN + 1);
	if (p == NULL || memchr(q, '\\', (size_t)(p - q)) != NULL ||
	    (n = (size_t)(p - q)) == 0 || e->nkeys >= EXPECT_KEYS)
		return expect_string(e, pp, end);
	k = &e->keys[e->nkeys++];
	if (k->n != n || memcmp(k->txt, q, n) != 0) {
		if (k->n > 0)
			jv_free(k->key);
		k->n = 0;
		k->key = jv_string_sized(q, (int)n);
		memcpy(k->txt, q, n);
		k->n = n;
	}
	*pp = p + 1;
	return jv_copy(k->key);
}

/* The object or array at *pp (its bracket) as a jv, members and all. */
static jv
expect_compound(struct expect *e, const char **pp, const char *end, int depth)
{
	int		 obj = **pp == '{';
	const char	*p = expect_ws(*pp + 1, end);
	jv		 c = obj ? jv_object() : jv_array(), k = jv_null(), v;

	if (p < end && *p == (obj ? '}' : ']')) {
		*pp = p + 1;
		return c;
	}
	for (;;) {
		if (obj) {
			if (p >= end || *p != '"' ||
			    !jv_is_valid(k = expect_key(e, &p, end)))
				break;
			p = expect_ws(p, end);
			if (p >= end || *p != ':')
				break;
			p = expect_ws(p + 1, end);
		}
		if (!jv_is_valid(v = expect_value(e, &p, end, depth + 1))) {
			jv_free(v);
			break;
		}
		c = obj ? jv_object_set(c, k, v) : jv_array_append(c, v);
		k = jv_null();
		p = expect_ws(p, end);
		if (p < end && *p == ',') {
			p = expect_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == (obj ? '}' : ']')) {
			*pp = p + 1;
			return c;
		}
		break;
	}
	jv_free(k);
	jv_free(c);
	return jv_invalid();
}

/* The word w (n bytes) at *pp as the jv val, or invalid. */
static jv
expect_word(const char **pp, const char *end, const char *w, size_t n, jv val)
{
	if ((size_t)(end - *pp) < n || memcmp(*pp, w, n) != 0)
		return jv_invalid();
	*pp += n;
	return val;
}

/* The JSON value at *pp as a jv, *pp moved past it; invalid when odd. */
static jv
expect_value(struct expect *e, const char **pp, const char *end, int depth)
{
	const char	*p = *pp;
	char		*q;
	double		 d;

	if (p >= end || depth > 2 * JSON_DEPTH_MAX)
		return jv_invalid();
	switch (*p) {
	case '{':
	case '[':
		return expect_compound(e, pp, end, depth);
	case '"':
		return expect_string(e, pp, end);
	case 't':
		return expect_word(pp, end, "true", 4, jv_true());
	case 'f':
		return expect_word(pp, end, "false", 5, jv_false());
	case 'n':
		return expect_word(pp, end, "null", 4, jv_null());
	default:
		if (*p != '-' && (*p < '0' || *p > '9'))
			return jv_invalid();
		/* The line ends in a newline, so strtod stops before its end. */
		d = strtod(p, &q);
		if (q == p || q > end)
			return jv_invalid();
		*pp = q;
		return jv_number(d);
	}
}

/* The record text line (n bytes, a newline last) as a jv. */
static jv
expect_parse(struct expect *e, const char *line, size_t n)
{
	const char	*p = line, *end = line + n;
	jv		 v;

	if (n == 0 || line[n - 1] != '\n')
		return jv_parse_sized(line, (int)n);
	e->nkeys = 0;
	v = expect_value(e, &p, end, 0);
	if (jv_is_valid(v) && expect_ws(p, end) == end)
		return v;
	jv_free(v);
	return jv_parse_sized(line, (int)n);
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
	in = expect_parse(e, line, n);
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
 * expression holds; else 0 and r has failed as kind expectation (its
 * hash is then printed as null, as on any failed record).
 */
int
expect_rec(struct expect *e, struct record *rf, struct rec *r)
{
	char	msg[REC_MSG_MAX];
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
	rec_fail(r, rc == -1 ? ERR_OTHER : ERR_EXPECTATION, "%s", msg);
	return 0;
}
