/*
 * netrc: a small strict reader of netrc files, so that gather, not
 * libcurl, decides where their credentials go (see netrc.h).  The words
 * are curl's: "machine NAME", "default", then "login", "password" and
 * "account" each with a value, and "macdef NAME" whose lines run to the
 * next empty line.  A word may be quoted as curl allows ("a b", with \",
 * \\, \n, \r and \t); a word starting with # where a keyword is due starts
 * a comment to the end of its line.  Anything else (an unknown keyword, a
 * value missing, a login before any machine, an open quote) is refused
 * with the line it is on: a file that is misread would send a password
 * to the wrong host.  The first entry that names the host, or a default
 * before it, wins, as in curl.
 */
#include "gather/netrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

/* A netrc file larger than this is refused rather than read. */
#define NETRC_MAX	(1024 * 1024)

struct netrc_entry {
	const char	*machine;	/* NULL: default */
	const char	*login;		/* "" when the entry has none */
	const char	*password;
};

struct netrc {
	struct netrc_entry	*v;
	size_t			 n, cap;
	char			*words;		/* every word, NUL-terminated */
};

/* Where the reader is in the file and where the next word goes. */
struct lex {
	const char	*p, *end;
	char		*out;
	int		 line;
};

/* Whether c separates words. */
static int
netrc_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Skip white space, counting lines; comments too when a keyword is due. */
static void
netrc_skip(struct lex *l, int comments)
{
	while (l->p < l->end) {
		if (*l->p == '\n')
			l->line++;
		if (netrc_space(*l->p))
			l->p++;
		else if (comments && *l->p == '#')
			while (l->p < l->end && *l->p != '\n')
				l->p++;
		else
			break;
	}
}

/*
 * The next word into l->out, NUL-terminated; *w points at it.  1 for a
 * word, 0 at the end of the file, -1 for an open quote.
 */
static int
netrc_word(struct lex *l, int comments, const char **w)
{
	char c;

	netrc_skip(l, comments);
	if (l->p == l->end)
		return 0;
	*w = l->out;
	if (*l->p != '"') {
		while (l->p < l->end && !netrc_space(*l->p))
			*l->out++ = *l->p++;
		*l->out++ = '\0';
		return 1;
	}
	for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
		if ((c = *l->p) == '\n')
			l->line++;
		if (c == '\\' && l->p + 1 < l->end) {
			c = *++l->p;
			c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' :
			    c;
		}
		*l->out++ = c;
	}
	if (l->p == l->end)
		return -1;
	l->p++;
	*l->out++ = '\0';
	return 1;
}

/* Skip a macdef's name and lines: up to and with the next empty line. */
static void
netrc_macdef(struct lex *l)
{
	const char *nl;

	while ((nl = memchr(l->p, '\n', (size_t)(l->end - l->p))) != NULL) {
		l->p = nl + 1;
		l->line++;
		while (l->p < l->end && *l->p == '\r')
			l->p++;
		if (l->p < l->end && *l->p == '\n') {
			l->p++;
			l->line++;
			return;
		}
	}
	l->p = l->end;
}

/* A new entry at the end of t; NULL when out of memory. */
static struct netrc_entry *
netrc_entry_new(struct netrc *t, const char *machine)
{
	struct netrc_entry	*v;
	size_t			 cap;

	if (t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : 8;
		if ((v = realloc(t->v, cap * sizeof(*v))) == NULL)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	v = &t->v[t->n++];
	v->machine = machine;
	v->login = v->password = "";
	return v;
}

/* Read every entry of l into t; -1 with a reason in err. */
static int
netrc_entries(struct netrc *t, struct lex *l, char *err, size_t errlen)
{
	struct netrc_entry	*e = NULL;
	const char		*k, *v = NULL;
	int			 rc, line;

	while ((rc = netrc_word(l, 1, &k)) == 1) {
		line = l->line;
		if (strcasecmp(k, "default") == 0) {
			if ((e = netrc_entry_new(t, NULL)) == NULL)
				goto oom;
			continue;
		}
		if (strcasecmp(k, "machine") != 0 &&
		    strcasecmp(k, "login") != 0 &&
		    strcasecmp(k, "password") != 0 &&
		    strcasecmp(k, "account") != 0 &&
		    strcasecmp(k, "macdef") != 0) {
			snprintf(err, errlen, "line %d: unknown word '%.40s'",
			    line, k);
			return -1;
		}
		if ((rc = netrc_word(l, 0, &v)) != 1) {
			snprintf(err, errlen, "line %d: %s", line, rc == 0 ?
			    "a value is missing at the end" : "a quote is not "
			    "closed");
			return -1;
		}
		if (strcasecmp(k, "macdef") == 0)
			netrc_macdef(l);
		else if (strcasecmp(k, "machine") == 0) {
			if ((e = netrc_entry_new(t, v)) == NULL)
				goto oom;
		} else if (e == NULL) {
			snprintf(err, errlen, "line %d: '%s' before any machine",
			    line, k);
			return -1;
		} else if (strcasecmp(k, "login") == 0)
			e->login = v;
		else if (strcasecmp(k, "password") == 0)
			e->password = v;
	}
	if (rc == -1) {
		snprintf(err, errlen, "line %d: a quote is not closed", l->line);
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* The entries of the netrc text s[0..len); NULL with a reason in err. */
struct netrc *
netrc_parse(const char *s, size_t len, char *err, size_t errlen)
{
	struct netrc	*t;
	struct lex	 l;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->words = malloc(len * 2 + 1)) == NULL) {
		netrc_free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l.p = s;
	l.end = s + len;
	l.out = t->words;
	l.line = 1;
	if (netrc_entries(t, &l, err, errlen) == -1) {
		netrc_free(t);
		return NULL;
	}
	return t;
}

/* Read all of fd into a new buffer, up to NETRC_MAX; -1 with errno. */
static ssize_t
netrc_slurp(int fd, char **out)
{
	char	*b;
	size_t	 n = 0;
	ssize_t	 r;

	if ((b = malloc(NETRC_MAX + 1)) == NULL)
		return -1;
	while (n <= NETRC_MAX &&
	    (r = read(fd, b + n, NETRC_MAX + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(b);
			return -1;
		}
		n += (size_t)r;
	}
	if (n > NETRC_MAX) {
		free(b);
		errno = EFBIG;
		return -1;
	}
	*out = b;
	return (ssize_t)n;
}

/*
 * Load path, or ~/.netrc when path is NULL (its absence, as in curl,
 * means no credentials); NULL with a one-line reason in err.
 */
struct netrc *
netrc_load(const char *path, char *err, size_t errlen)
{
	const char	*home = getenv("HOME");
	char		 def[4096], why[200], *text = NULL;
	struct netrc	*t;
	ssize_t		 n;
	int		 fd;

	if (path == NULL) {
		snprintf(def, sizeof(def), "%s/.netrc", home ? home : "");
		path = def;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 &&
	    path == def && errno == ENOENT)
		return netrc_parse("", 0, err, errlen);
	if (fd == -1 || (n = netrc_slurp(fd, &text)) == -1) {
		if (errno == ENOMEM)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "--netrc: cannot read '%s': %s",
			    path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	close(fd);
	if ((t = netrc_parse(text, (size_t)n, why, sizeof(why))) == NULL) {
		if (strcmp(why, "out of memory") == 0)
			snprintf(err, errlen, "%s", why);
		else
			snprintf(err, errlen, "--netrc: %s: %s", path, why);
	}
	free(text);
	return t;
}

/*
 * The login and password t has for host (compared without case); 1 when
 * an entry matches, else 0.
 */
int
netrc_find(const struct netrc *t, const char *host, const char **login,
    const char **password)
{
	size_t i;

	for (i = 0; t != NULL && i < t->n; i++)
		if (t->v[i].machine == NULL ||
		    strcasecmp(t->v[i].machine, host) == 0) {
			*login = t->v[i].login;
			*password = t->v[i].password;
			return 1;
		}
	return 0;
}

/* Free t and its words. */
void
netrc_free(struct netrc *t)
{
	if (t == NULL)
		return;
	free(t->v);
	free(t->words);
	free(t);
}
