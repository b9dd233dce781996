/*
 * cli: the option table and what it drives.  Each option is one row naming
 * its long and short form, the type of its value, the field of struct opts
 * it sets, the value's name and its help; the same rows make the parser,
 * the option list of --help and, through --dump-options and
 * tools/completions.sh, both shell completions, so none of them can forget
 * an option.  Values are checked here, before anything is fetched, so that
 * a usage error costs nothing and says one line.
 *
 * Long options that curl has keep curl's names and meaning.  Some short
 * letters do not: -c is --concurrency (curl: --cookie-jar), -i is --input
 * (curl: --include), -I is --include-headers (curl: --head), -o is
 * --output-dir (curl: --output FILE), -q is --quiet (curl: skip .curlrc),
 * -t is --timeout (curl: --telnet-option) and -u is --unordered (curl:
 * --user).  Where curl's letter is free here it means what it means in
 * curl: -f, -m and --max-time, -s and --silent, and --retry.  An alias
 * (-m, --max-time, -s, --silent, --retry) is a row that names its
 * canonical row and has nothing else of its own but its names and help:
 * the parser turns it into that row, so an alias is the same option in
 * every respect and cannot drift from it.  -L and --compressed are on by
 * default here.
 */
#include "gather/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>

#include "gather/netrc.h"
#include "gather/units.h"

/* How an option takes its value, and so the C type of its field. */
enum arg_type {
	ARG_NONE,	/* no value; the handler does it all */
	ARG_FLAG,	/* no value; the int field is set to the row's val */
	ARG_INCR,	/* no value; the int field counts the times given */
	ARG_COUNT,	/* long, from the row's min to MAX_COUNT */
	ARG_SECONDS,	/* double, non-negative, fractions allowed */
	ARG_SIZE,	/* uint64_t, suffixes k, M, G */
	ARG_STRING,	/* const char *, pointing into argv */
	ARG_ENUM,	/* int, the index of the value in the row's names */
	ARG_OPTIONAL,	/* a value only as --name=value; the handler takes it */
	ARG_ALIAS	/* another name for the row called .same */
};

/* The headings of --help, in the order they are printed. */
enum opt_group {
	SCHED,
	REQUEST,
	OUTPUT,
	MESSAGES
};

static const char *const group_names[] = {
	"Scheduling", "Requests", "Output", "Input and messages"
};

/* Row flags that only the completions need: how often an option may come. */
#define OF_MANY		0x1	/* repeatable */
#define OF_ALONE	0x2	/* prints and exits: nothing else matters */

#define NOFIELD		((size_t)-1)
#define F(field)	offsetof(struct opts, field)

/* ARG_FLAG and ARG_ENUM store an int into these. */
_Static_assert(sizeof(enum http_version) == sizeof(int), "enum http_version");
_Static_assert(sizeof(enum body_mode) == sizeof(int), "enum body_mode");
_Static_assert(sizeof(enum format) == sizeof(int), "enum format");

#define MAX_COUNT	100000
/* -d: what a body held in memory and copied per request may weigh. */
#define MAX_DATA	(64L * 1024 * 1024)
/* --help: the column of the help texts, and the longest line. */
#define HELP_COL	27
#define HELP_WIDTH	78
/* Habit warnings kept until -q is known, at most. */
#define MAX_WARNED	8

struct option_def;

/* One option as given on the command line, its value parsed by type. */
struct cli_arg {
	const struct option_def	*d;
	char			 shown[64];	/* "-c" or "--concurrency" */
	const char		*val;		/* NULL when none was given */
	long			 n;		/* ARG_COUNT */
	double			 secs;		/* ARG_SECONDS */
	uint64_t		 size;		/* ARG_SIZE */
	int			 idx;		/* ARG_ENUM */
	char			*err;
	size_t			 errlen;
	/* Habit warnings met while parsing, said once -q is known. */
	const struct habit_warning *warned[MAX_WARNED];
	const char		*warned_word[MAX_WARNED];
	size_t			 nwarned;
};

/* An option with real logic: it applies a, or says why it cannot. */
typedef enum cli_status (*opt_fn)(struct opts *, struct cli_arg *);

struct option_def {
	const char		*lname;
	char			 sname;
	enum arg_type		 arg;
	enum opt_group		 group;
	size_t			 off;	/* field in struct opts, or NOFIELD */
	const char		*meta;	/* the value's name in --help */
	const char		*help;	/* up to the first \n: what zsh shows */
	int			 val;	/* ARG_FLAG: what the field becomes */
	long			 min;	/* ARG_COUNT: the least allowed */
	const char *const	*names;	/* ARG_ENUM: the values; else hints */
	const char		*empty;	/* ARG_STRING: why "" is refused */
	opt_fn			 fn;	/* runs instead of storing the value */
	unsigned		 flags;	/* OF_* */
	const char		*same;	/* ARG_ALIAS: the canonical row's long */
};

static const char *const body_names[] = {
	"auto", "text", "base64", "json", "none", NULL
};

static const char *const format_names[] = { "jsonl", "json", "tap", NULL };

static const char *const stats_names[] = { "text", "json", NULL };

/* --hash: bit i of opts.hashes is hash_names[i]. */
static const char *const hash_names[] = { "sha256", "sha1", "md5", NULL };

/* Only what completion offers after -X: any token is a method. */
static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
};

/* Protocols --proto may name: those libcurl can speak. */
static const char *const proto_names[] = {
	"dict", "file", "ftp", "ftps", "gopher", "gophers", "http", "https",
	"imap", "imaps", "ldap", "ldaps", "mqtt", "pop3", "pop3s", "rtmp",
	"rtsp", "scp", "sftp", "smb", "smbs", "smtp", "smtps", "telnet", "tftp",
	NULL
};

/*
 * Habits from curl, wget and GNU parallel that gather does not take: each
 * an option name as typed, whose tool it comes from, and gather's way.
 * Kept apart from the option table: these are never parsed, only named.
 */
struct habit {
	const char	*name;		/* "-Z" or "--parallel" */
	const char	*origin;	/* what it means where it comes from */
	const char	*advice;	/* gather's way, one clause */
};

static const struct habit habits[] = {
	{ "-Z", "curl's --parallel", "transfers always run in parallel "
	    "here; -c N sets how many at once" },
	{ "--parallel", "curl's -Z", "transfers always run in parallel here; "
	    "-c N sets how many at once" },
	{ "--parallel-max", "curl's", "use -c N, transfers in flight at most" },
	{ "-P", "GNU parallel's and xargs' jobs", "use -c N, transfers in "
	    "flight at most" },
	{ "--max-threads", "wget2's", "use -c N, transfers in flight at most" },
	{ "-O", "curl's --remote-name", "use -o DIR (each body a file in "
	    "DIR; --name '{name}' names it after the URL)" },
	{ "--directory-prefix", "wget's -P", "use -o DIR" },
	{ "-w", "curl's --write-out", "each record is JSON already: pick "
	    "fields with jq, as gather URL | jq -r '[.status, .time.total] "
	    "| @tsv'" },
	{ "--write-out", "curl's -w", "each record is JSON already: pick "
	    "fields with jq, as gather URL | jq -r '[.status, .time.total] "
	    "| @tsv'" },
	{ "--head", "curl's -I", "use -X HEAD" },
	{ "--tries", "wget's -t", "use --retries N (-t is a timeout here)" },
	{ "--keep-order", "GNU parallel's -k", "input order is the default "
	    "here (-u writes records as they finish)" },
	{ "--input-file", "wget's -i", "use -i FILE" },
};
#define NHABITS (sizeof(habits) / sizeof(habits[0]))

static int cli_looks_user(const char *);
static int cli_looks_file(const char *);
static int cli_looks_tries(const char *);

/*
 * Values that mean something else in curl or wget: a warning, and the run
 * goes on (-q silences it).  word is the option's value, or for a flag the
 * word after it.
 */
struct habit_warning {
	const char	*shown;		/* the option as typed */
	int		(*looks)(const char *);
	const char	*before;	/* the message up to the word */
	const char	*after;		/* after it; NULL: the word is not shown */
};

static const struct habit_warning habit_warnings[] = {
	{ "-u", cli_looks_user, "-u is --unordered here, so the word after "
	    "it is fetched as a URL; for basic authentication use --user "
	    "USER:PASSWORD", NULL },
	{ "-o", cli_looks_file, "-o is a directory here: '", "' is made a "
	    "directory with a file per record; for one output file write "
	    "gather URL > FILE" },
	{ "-t", cli_looks_tries, "-t ", " is a timeout in seconds per attempt "
	    "here (wget's -t is tries: use --retries N)" },
};
#define NWARNINGS (sizeof(habit_warnings) / sizeof(habit_warnings[0]))

static enum cli_status cli_usage(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static enum cli_status cli_bad(const struct cli_arg *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Print a one-line reason into err; always returns CLI_USAGE. */
static enum cli_status
cli_usage(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

/* The same, for a reason about an option's value: "--opt: reason". */
static enum cli_status
cli_bad(const struct cli_arg *a, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(a->err, a->errlen, "%s: ", a->shown);
	if (n < 0 || (size_t)n >= a->errlen)
		return CLI_USAGE;
	va_start(ap, fmt);
	vsnprintf(a->err + n, a->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

/* -u's next word: USER:PASSWORD rather than a URL or host:port. */
static int
cli_looks_user(const char *w)
{
	const char *colon;

	if (w == NULL || w[0] == '-' || strchr(w, '/') != NULL ||
	    (colon = strchr(w, ':')) == NULL || colon == w ||
	    colon[1] == '\0')
		return 0;
	/* host:8080 is an address; ann:secret is not. */
	return strspn(colon + 1, "0123456789") != strlen(colon + 1);
}

/* -o's value: a file name such as out.json rather than a directory. */
static int
cli_looks_file(const char *w)
{
	static const char *const ext[] = {
		".json", ".jsonl", ".txt", ".html", ".htm", ".csv", ".xml", NULL
	};
	size_t i, n = strlen(w), e;

	for (i = 0; ext[i] != NULL; i++)
		if (n > (e = strlen(ext[i])) &&
		    strcasecmp(w + n - e, ext[i]) == 0)
			return 1;
	return 0;
}

/* -t's value: a small whole number, as wget's tries are written. */
static int
cli_looks_tries(const char *w)
{
	return w[0] >= '1' && w[0] <= '3' && w[1] == '\0';
}

/* Keep the warning for shown whose word looks like another tool's habit. */
static void
cli_habit_warn(struct cli_arg *a, const char *shown, const char *word)
{
	size_t i;

	for (i = 0; i < NWARNINGS; i++)
		if (strcmp(habit_warnings[i].shown, shown) == 0 &&
		    word != NULL && habit_warnings[i].looks(word) &&
		    a->nwarned < MAX_WARNED) {
			a->warned[a->nwarned] = &habit_warnings[i];
			a->warned_word[a->nwarned++] = word;
		}
}

/* Say the kept warnings, one line each, unless -q. */
static void
cli_habit_say(const struct opts *o, const struct cli_arg *a)
{
	struct buf	word = { NULL, 0, 0 };
	size_t		i;

	for (i = 0; i < a->nwarned && !o->quiet; i++) {
		buf_clear(&word);
		if (text_printable(&word, a->warned_word[i]) == -1)
			break;
		fprintf(stderr, "gather: warning: %s%s%s\n",
		    a->warned[i]->before,
		    a->warned[i]->after != NULL ? word.p : "",
		    a->warned[i]->after != NULL ? a->warned[i]->after : "");
	}
	buf_free(&word);
}

/*
 * The habit an unknown option name is (name, len: as typed, up to any
 * '='): a usage error naming gather's way; CLI_RUN when it is none.
 */
static enum cli_status
cli_habit(const struct cli_arg *a, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NHABITS; i++)
		if (strlen(habits[i].name) == len &&
		    strncmp(habits[i].name, name, len) == 0)
			return cli_usage(a->err, a->errlen, "%s is %s: %s",
			    habits[i].name, habits[i].origin, habits[i].advice);
	return CLI_RUN;
}

/*
 * Whether name is the standard input under another name.  stdin may carry
 * the URLs, and a pipe read from two places loses lines to either.
 */
static int
cli_is_stdin(const char *name, int fd)
{
	struct stat	in, st;

	if (strcmp(name, "-") == 0 || strcmp(name, "/dev/stdin") == 0 ||
	    strcmp(name, "/dev/fd/0") == 0 ||
	    strcmp(name, "/proc/self/fd/0") == 0)
		return 1;
	if (fd == -1 || fstat(fd, &st) == -1 || fstat(STDIN_FILENO, &in) == -1)
		return 0;
	return (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
	    st.st_dev == in.st_dev && st.st_ino == in.st_ino;
}

/* -d @FILE naming stdin, which may carry the URLs. */
static enum cli_status
cli_data_stdin(const struct cli_arg *a)
{
	return cli_usage(a->err, a->errlen, "%s %s: reading data from stdin "
	    "is not supported (stdin may carry the URLs)", a->shown, a->val);
}

/* Append the file after -d @ to o->data, refusing stdin and big files. */
static enum cli_status
cli_data_file(struct opts *o, const struct cli_arg *a)
{
	const char	*path = a->val + 1;
	char		 chunk[65536];
	struct stat	 st;
	size_t		 room;
	ssize_t		 n;
	int		 fd, saved;

	if (cli_is_stdin(path, -1))
		return cli_data_stdin(a);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cli_bad(a, "cannot open '%s': %s", path,
		    strerror(errno));
	if (cli_is_stdin(path, fd)) {
		close(fd);
		return cli_data_stdin(a);
	}
	room = o->data.len < MAX_DATA ? MAX_DATA - o->data.len : 0;
	/* A regular file says its size; anything else is read up to the cap. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > room)
		n = 1;
	else {
		while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 || (size_t)n > room)
				break;
			room -= (size_t)n;
			if (buf_append(&o->data, chunk, (size_t)n) == -1) {
				close(fd);
				return cli_usage(a->err, a->errlen,
				    "out of memory");
			}
		}
	}
	saved = errno;
	close(fd);
	if (n == -1)
		return cli_bad(a, "cannot read '%s': %s", path,
		    strerror(saved));
	if (n > 0)
		return cli_usage(a->err, a->errlen, "%s %s: larger than %ld "
		    "bytes", a->shown, a->val, MAX_DATA);
	return CLI_RUN;
}

/*
 * -d and --json: append the value, or the file after @, to the body.  As
 * in curl, a -d piece after another piece is joined by &, a --json piece
 * is appended as it is, so that JSON given in parts stays JSON.
 */
static enum cli_status
opt_data(struct opts *o, struct cli_arg *a)
{
	int json = strcmp(a->d->lname, "json") == 0;

	if (o->has_data && !json && buf_append(&o->data, "&", 1) == -1)
		return cli_usage(a->err, a->errlen, "out of memory");
	o->has_data = 1;
	o->json |= json;
	if (a->val[0] == '@')
		return cli_data_file(o, a);
	if (buf_append(&o->data, a->val, strlen(a->val)) == -1)
		return cli_usage(a->err, a->errlen, "out of memory");
	return CLI_RUN;
}

/* -i: one more input file, read after those before it. */
static enum cli_status
opt_input(struct opts *o, struct cli_arg *a)
{
	o->inputs[o->ninputs++] = (char *)a->val;
	return CLI_RUN;
}

/* --expect: one more jq expression, compiled when the run is made. */
static enum cli_status
opt_expect(struct opts *o, struct cli_arg *a)
{
	o->expects[o->nexpects++] = (char *)a->val;
	return CLI_RUN;
}

/* --resume and --revalidate: one more earlier output, read in order. */
static enum cli_status
opt_earlier(struct opts *o, struct cli_arg *a)
{
	if (strcmp(a->d->lname, "resume") == 0) {
		o->resume = a->val;
		o->resumes[o->nresumes++] = (char *)a->val;
	} else {
		o->revalidate = a->val;
		o->revalidates[o->nrevalidates++] = (char *)a->val;
	}
	return CLI_RUN;
}

/* --retry-on: the list replaces the retryable set. */
static enum cli_status
opt_retry_on(struct opts *o, struct cli_arg *a)
{
	char why[200];

	if (policy_retry_parse(&o->retry_on, a->val, why, sizeof(why)) == -1)
		return cli_bad(a, "%s", why);
	o->retry_on_set = 1;
	return CLI_RUN;
}

/* --proto: known names separated by commas, curl's leading "=" allowed. */
static enum cli_status
opt_proto(struct opts *o, struct cli_arg *a)
{
	const char	*p = a->val, *end;
	size_t		 len, i;

	if (*p == '=')
		p++;
	o->proto[0] = '\0';
	while (*p) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; proto_names[i] != NULL; i++)
			if (strlen(proto_names[i]) == len &&
			    strncasecmp(proto_names[i], p, len) == 0)
				break;
		if (proto_names[i] == NULL)
			return cli_bad(a, "unknown protocol '%.*s'", (int)len,
			    p);
		if (strlen(o->proto) + len + 2 > sizeof(o->proto))
			return cli_bad(a, "list too long");
		if (o->proto[0])
			strcat(o->proto, ",");
		strcat(o->proto, proto_names[i]);
		p += len;
		if (*p == ',')
			p++;
	}
	if (o->proto[0] == '\0')
		return cli_bad(a, "expected a list of protocols such as "
		    "http,https");
	return CLI_RUN;
}

/* -H: a header as curl takes it, "Name: value", "Name:" or "Name;". */
static enum cli_status
opt_header(struct opts *o, struct cli_arg *a)
{
	const char *p;

	/* "http://host/x" would be the header "http: //host/x". */
	p = a->val + strspn(a->val, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	if (p != a->val && strncmp(p, "://", 3) == 0)
		return cli_bad(a, "'%s' is a URL, not a header 'Name: value' "
		    "(-H takes a value)", a->val);
	for (p = a->val; *p && *p != ':' && *p != ';'; p++)
		if (*p <= ' ' || *p == 0x7f)
			break;
	if (p == a->val || (*p != ':' && *p != ';') ||
	    strpbrk(p, "\r\n") != NULL)
		return cli_bad(a, "expected 'Name: value', not '%s'", a->val);
	o->headers[o->nheaders++] = (char *)a->val;
	return CLI_RUN;
}

/* -X: one token, since libcurl sends it as it is. */
static enum cli_status
opt_request(struct opts *o, struct cli_arg *a)
{
	const char *p;

	for (p = a->val; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			break;
	if (p == a->val || *p != '\0')
		return cli_bad(a, "expected a method such as GET or POST, "
		    "not '%s'", a->val);
	o->method = a->val;
	return CLI_RUN;
}

/* -A: a line break would end the header and start another. */
static enum cli_status
opt_user_agent(struct opts *o, struct cli_arg *a)
{
	if (strpbrk(a->val, "\r\n") != NULL)
		return cli_bad(a, "line breaks are not allowed");
	o->user_agent = a->val;
	return CLI_RUN;
}

/* --cacert: said now rather than as a TLS error on every record. */
static enum cli_status
opt_cacert(struct opts *o, struct cli_arg *a)
{
	if (access(a->val, R_OK) == -1)
		return cli_bad(a, "cannot read '%s': %s", a->val,
		    strerror(errno));
	o->cacert = a->val;
	return CLI_RUN;
}

/* A file option's value: said now rather than as an error on every record. */
static enum cli_status
cli_readable(const struct cli_arg *a, const char *path)
{
	if (access(path, R_OK) == -1)
		return cli_bad(a, "cannot read '%s': %s", path, strerror(errno));
	return CLI_RUN;
}

/* Whether s[0..n) is a port, 1 to 65535, or empty when that is allowed. */
static int
cli_port_ok(const char *s, size_t n, int empty_ok)
{
	long	v = 0;
	size_t	i;

	if (n == 0)
		return empty_ok;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Whether s[0..n) is one IPv4 or IPv6 address, the latter maybe in []. */
static int
cli_addr_ok(const char *s, size_t n)
{
	char		a[INET6_ADDRSTRLEN + 1];
	unsigned char	bin[16];

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(a))
		return 0;
	memcpy(a, s, n);
	a[n] = '\0';
	return inet_pton(AF_INET, a, bin) == 1 ||
	    inet_pton(AF_INET6, a, bin) == 1;
}

/*
 * --resolve: curl's [+]HOST:PORT:ADDR[,ADDR]...  libcurl skips an entry it
 * cannot read, which would send the name to DNS after all: check it here.
 */
static enum cli_status
opt_resolve(struct opts *o, struct cli_arg *a)
{
	const char	*p = a->val, *c1, *c2, *addr, *end;

	if (*p == '+')
		p++;
	if ((c1 = strchr(p, ':')) == NULL || c1 == p ||
	    (c2 = strchr(c1 + 1, ':')) == NULL ||
	    !cli_port_ok(c1 + 1, (size_t)(c2 - c1 - 1), 0))
		return cli_bad(a, "expected HOST:PORT:ADDR[,ADDR...], not '%s'",
		    a->val);
	for (addr = c2 + 1;; addr = end + 1) {
		end = addr + strcspn(addr, ",");
		if (!cli_addr_ok(addr, (size_t)(end - addr)))
			return cli_bad(a, "'%.*s' is not an IP address",
			    (int)(end - addr), addr);
		if (*end == '\0')
			break;
	}
	o->resolve[o->nresolve++] = (char *)a->val;
	return CLI_RUN;
}

/* The colon after the host that starts p (an IPv6 one in []), or NULL. */
static const char *
cli_host_end(const char *p)
{
	if (*p == '[') {
		if ((p = strchr(p, ']')) == NULL)
			return NULL;
		p++;
	} else
		p += strcspn(p, ":");
	return *p == ':' ? p : NULL;
}

/* --connect-to: curl's HOST1:PORT1:HOST2:PORT2, any part may be empty. */
static enum cli_status
opt_connect_to(struct opts *o, struct cli_arg *a)
{
	const char	*h1, *p1, *h2;

	if ((h1 = cli_host_end(a->val)) == NULL ||
	    (p1 = strchr(h1 + 1, ':')) == NULL ||
	    !cli_port_ok(h1 + 1, (size_t)(p1 - h1 - 1), 1) ||
	    (h2 = cli_host_end(p1 + 1)) == NULL ||
	    !cli_port_ok(h2 + 1, strlen(h2 + 1), 1) ||
	    strpbrk(a->val, "\r\n ") != NULL)
		return cli_bad(a, "expected HOST1:PORT1:HOST2:PORT2, not '%s'",
		    a->val);
	o->connect_to[o->nconnect_to++] = (char *)a->val;
	return CLI_RUN;
}

/* --user: gather cannot ask for a password, so it must be there. */
static enum cli_status
opt_user(struct opts *o, struct cli_arg *a)
{
	if (strchr(a->val, ':') == NULL)
		return cli_bad(a, "expected USER:PASSWORD (gather does not "
		    "prompt for a password)");
	o->user = a->val;
	return CLI_RUN;
}

/* --oauth2-bearer: a line break would end the Authorization header. */
static enum cli_status
opt_bearer(struct opts *o, struct cli_arg *a)
{
	if (strpbrk(a->val, "\r\n") != NULL)
		return cli_bad(a, "line breaks are not allowed");
	o->bearer = a->val;
	return CLI_RUN;
}

/* --netrc-file: implies --netrc, as in curl. */
static enum cli_status
opt_netrc_file(struct opts *o, struct cli_arg *a)
{
	enum cli_status st;

	if ((st = cli_readable(a, a->val)) != CLI_RUN)
		return st;
	o->netrc_file = a->val;
	o->netrc = 1;
	return CLI_RUN;
}

/*
 * Whether -b's FILE is stdin under any name: libcurl would read the URL
 * list as cookies.  A FILE that cannot be opened is not stdin.
 */
static int
cli_cookie_stdin(const char *path)
{
	int fd, is;

	if (cli_is_stdin(path, -1))
		return 1;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return 0;
	is = cli_is_stdin(path, fd);
	close(fd);
	return is;
}

/*
 * -b: as in curl, a value with '=' is cookies to send, anything else a
 * file to load.  A file that is not there loads nothing, so that
 * -b FILE --cookie-jar FILE works from the first run on.
 */
static enum cli_status
opt_cookie(struct opts *o, struct cli_arg *a)
{
	if (strchr(a->val, '=') == NULL) {
		if (cli_cookie_stdin(a->val))
			return cli_usage(a->err, a->errlen, "%s %s: reading "
			    "cookies from stdin is not supported (stdin may "
			    "carry the URLs)", a->shown, a->val);
		o->cookie_files[o->ncookie_files++] = (char *)a->val;
		return CLI_RUN;
	}
	if (strpbrk(a->val, "\r\n") != NULL)
		return cli_bad(a, "line breaks are not allowed");
	o->cookie_data[o->ncookie_data++] = (char *)a->val;
	return CLI_RUN;
}

/* --cookie-jar: curl's "-" would mix cookies into the records. */
static enum cli_status
opt_cookie_jar(struct opts *o, struct cli_arg *a)
{
	if (strcmp(a->val, "-") == 0)
		return cli_bad(a, "stdout carries the records; name a file");
	o->cookie_jar = a->val;
	return CLI_RUN;
}

/*
 * -E: FILE[:PASSWORD] as curl splits it, at the first colon that is not
 * escaped as "\:"; the file is checked now, the password kept apart.
 */
static enum cli_status
opt_cert(struct opts *o, struct cli_arg *a)
{
	const char	*p;
	char		*f;
	size_t		 n = 0;

	free(o->cert);
	free(o->cert_pass);
	o->cert = o->cert_pass = NULL;
	if ((f = malloc(strlen(a->val) + 1)) == NULL)
		return cli_usage(a->err, a->errlen, "out of memory");
	for (p = a->val; *p != '\0' && *p != ':'; p++) {
		if (p[0] == '\\' && p[1] == ':')
			p++;
		f[n++] = *p;
	}
	f[n] = '\0';
	o->cert = f;
	if (*p == ':' && (o->cert_pass = strdup(p + 1)) == NULL)
		return cli_usage(a->err, a->errlen, "out of memory");
	if (n == 0)
		return cli_bad(a, "expected FILE[:PASSWORD]");
	return cli_readable(a, o->cert);
}

/* --key: checked now, as --cert is. */
static enum cli_status
opt_key(struct opts *o, struct cli_arg *a)
{
	o->key = a->val;
	return cli_readable(a, a->val);
}

/* --rate: starts per second, whatever unit was given. */
static enum cli_status
opt_rate(struct opts *o, struct cli_arg *a)
{
	if (parse_rate(a->val, &o->rate) == -1)
		return cli_bad(a, "expected starts per unit such as 10, 10/s, "
		    "600/m or 5000/h, not '%s'", a->val);
	return CLI_RUN;
}

/* --per-host-rate: starts per second for each host, as --rate. */
static enum cli_status
opt_per_host_rate(struct opts *o, struct cli_arg *a)
{
	if (parse_rate(a->val, &o->per_host_rate) == -1)
		return cli_bad(a, "expected starts per unit such as 10, 10/s, "
		    "600/m or 5000/h, not '%s'", a->val);
	return CLI_RUN;
}

/* --shard: K and N land in two fields. */
static enum cli_status
opt_shard(struct opts *o, struct cli_arg *a)
{
	if (parse_shard(a->val, &o->shard_k, &o->shard_n) == -1)
		return cli_bad(a, "expected K/N with 0 <= K < N, not '%s'",
		    a->val);
	return CLI_RUN;
}

/* --hash: names from hash_names separated by commas, each a bit. */
static enum cli_status
opt_hash(struct opts *o, struct cli_arg *a)
{
	const char	*p = a->val;
	size_t		 len, i;

	o->hashes = 0;
	while (*p) {
		len = strcspn(p, ",");
		for (i = 0; hash_names[i] != NULL; i++)
			if (strlen(hash_names[i]) == len &&
			    strncasecmp(hash_names[i], p, len) == 0)
				break;
		if (hash_names[i] == NULL)
			return cli_bad(a, "expected sha256, sha1 or md5 "
			    "separated by commas, not '%.*s'", (int)len, p);
		o->hashes |= 1u << i;
		p += len;
		if (*p == ',')
			p++;
	}
	if (o->hashes == 0)
		return cli_bad(a, "expected sha256, sha1 or md5");
	return CLI_RUN;
}

/* --stats[=json]: the value is optional, so it cannot follow as a word. */
static enum cli_status
opt_stats(struct opts *o, struct cli_arg *a)
{
	if (a->val == NULL || strcmp(a->val, "text") == 0)
		o->stats = STATS_TEXT;
	else if (strcmp(a->val, "json") == 0)
		o->stats = STATS_JSON;
	else
		return cli_bad(a, "expected --stats or --stats=json, not '%s'",
		    a->val);
	return CLI_RUN;
}

/* --location-trusted: following is what makes trusting mean anything. */
static enum cli_status
opt_location_trusted(struct opts *o, struct cli_arg *a)
{
	(void)a;
	o->follow = o->location_trusted = 1;
	return CLI_RUN;
}

/* -h: print and stop; main checks that stdout took it. */
static enum cli_status
opt_help(struct opts *o, struct cli_arg *a)
{
	(void)o;
	(void)a;
	cli_help();
	return CLI_EXIT_OK;
}

/* -V: print and stop, as -h. */
static enum cli_status
opt_version(struct opts *o, struct cli_arg *a)
{
	(void)o;
	(void)a;
	cli_version();
	return CLI_EXIT_OK;
}

/*
 * In --help order.  Plain options need only their row; tests/docs.bats
 * checks every row against --help, the man page and the completions, and
 * tests/outputs.bats reads the rows' first lines, so each row starts with
 * { "long", 'short', ARG_....
 */
static const struct option_def options[] = {
	{ "concurrency", 'c', ARG_COUNT, SCHED, F(concurrency), "N",
	    .help = "transfers in flight at most (default 32)", .min = 1 },
	{ "jobs", 'j', ARG_COUNT, SCHED, F(jobs), "N",
	    .help = "worker processes, each with its own event loop, records "
	    "going to them by host (default 1; 0 = one per online CPU); -c, "
	    "--rate and --window stay totals" },
	{ "timeout", 't', ARG_SECONDS, SCHED, F(timeout), "SEC",
	    .help = "limit for each attempt, fractions allowed; 0 = none "
	    "(default 30; 0 with -o)" },
	{ "speed-limit", 0, ARG_SIZE, SCHED, F(speed_limit), "BYTES",
	    .help = "with --speed-time: a transfer slower than BYTES per "
	    "second ends as timeout (default 0 = none; 1 with -o)" },
	{ "speed-time", 0, ARG_COUNT, SCHED, F(speed_time), "SEC",
	    .help = "seconds a transfer may stay below --speed-limit "
	    "(default 30)" },
	{ "max-time", 'm', ARG_ALIAS, SCHED, NOFIELD, NULL,
	    .help = "the same as -t (curl's name)", .same = "timeout" },
	{ "connect-timeout", 0, ARG_SECONDS, SCHED, F(connect_timeout), "SEC",
	    .help = "limit for connecting; 0 = libcurl's default "
	    "(default 10)" },
	{ "deadline", 0, ARG_SECONDS, SCHED, F(deadline), "SEC",
	    .help = "limit for the whole run; what is unfinished then ends as "
	    "deadline (default none)" },
	{ "retries", 0, ARG_COUNT, SCHED, F(retries), "N",
	    .help = "retry dns, connect, timeout and reset failures and "
	    "HTTP 408, 429, 500, 502, 503, 504 (default 0)" },
	{ "retry", 0, ARG_ALIAS, SCHED, NOFIELD, NULL,
	    .help = "the same as --retries (curl's name)", .same = "retries" },
	{ "retry-on", 0, ARG_STRING, SCHED, F(retry_on), "LIST",
	    .help = "what --retries retries instead: error kinds, statuses "
	    "and ranges, comma-separated, ! to take one out (e.g. "
	    "'timeout,5xx,!501,429', quoted for the shell; '!503' alone trims "
	    "the default)",
	    .fn = opt_retry_on },
	{ "retry-all-errors", 0, ARG_FLAG, SCHED, F(retry_all), NULL,
	    .help = "--retries retries every failure but bad_input, "
	    "invalid_url, unsupported_protocol and checksum (with --fail, "
	    "HTTP >= 400 too)", .val = 1 },
	{ "retry-delay", 0, ARG_SECONDS, SCHED, F(retry_delay), "SEC",
	    .help = "base of the exponential backoff (default 0.5)" },
	{ "retry-max-delay", 0, ARG_SECONDS, SCHED, F(retry_max_delay), "SEC",
	    .help = "longest single wait (default 30); Retry-After on 429 "
	    "and 503 is honoured up to it" },
	{ "fail", 'f', ARG_FLAG, SCHED, F(fail), NULL,
	    .help = "HTTP status >= 400 after retries makes a record fail "
	    "(http); on with -o",
	    .val = 1 },
	{ "no-fail", 0, ARG_FLAG, SCHED, F(fail), NULL,
	    .help = "HTTP status >= 400 is ok (with -o: no file, file null)",
	    .val = 0 },
	{ "fail-fast", 0, ARG_FLAG, SCHED, F(fail_fast), NULL,
	    .help = "the first failure cancels the rest and stops reading "
	    "input",
	    .val = 1 },
	{ "rate", 0, ARG_STRING, SCHED, F(rate), "N[/s|/m|/h]",
	    .help = "start at most N requests per unit, evenly spaced "
	    "(default: no limit; unit /s)", .fn = opt_rate },
	{ "per-host", 0, ARG_COUNT, SCHED, F(per_host), "N",
	    .help = "in flight to one host:port at most (0 = no limit, the "
	    "default)" },
	{ "per-host-rate", 0, ARG_STRING, SCHED, F(per_host_rate),
	    "N[/s|/m|/h]", .help = "start at most N requests per unit to each "
	    "host:port, evenly spaced; beside --rate, which counts all "
	    "(default: no limit; unit /s)", .fn = opt_per_host_rate },
	{ "adaptive", 0, ARG_FLAG, SCHED, F(adaptive), NULL,
	    .help = "each host's concurrency adapts: from 2, +1 after a round "
	    "of good answers, halved on 429, 503, timeout or reset; at most "
	    "--per-host, else -c", .val = 1 },
	{ "unordered", 'u', ARG_FLAG, SCHED, F(unordered), NULL,
	    .help = "write records as they finish", .val = 1 },
	{ "window", 0, ARG_COUNT, SCHED, F(window), "N",
	    .help = "records read but not yet written, a slow head included "
	    "(default 4 x -c, at least 256, and at least -c); when full, new "
	    "starts pause", .min = 1 },
	{ "shard", 0, ARG_STRING, SCHED, F(shard_k), "K/N",
	    .help = "only records with index % N == K", .fn = opt_shard },
	{ "resume", 0, ARG_STRING, SCHED, F(resume), "FILE",
	    .help = "skip records that FILE, an earlier jsonl output, has "
	    "as ok; repeatable: files in order, an index's last record wins",
	    .empty = "expected a file", .fn = opt_earlier, .flags = OF_MANY },
	{ "revalidate", 0, ARG_STRING, SCHED, F(revalidate), "FILE",
	    .help = "ask only for what changed since FILE, an earlier output: "
	    "If-None-Match and If-Modified-Since from its etag and "
	    "last_modified; a 304 is ok with not_modified; repeatable: "
	    "files in order, a URL's last record wins",
	    .empty = "expected a file", .fn = opt_earlier, .flags = OF_MANY },

	{ "request", 'X', ARG_STRING, REQUEST, F(method), "METHOD",
	    .help = "method (default GET, or POST with -d)",
	    .names = method_names, .fn = opt_request },
	{ "header", 'H', ARG_STRING, REQUEST, F(headers), "'K: V'",
	    .help = "add a header; repeatable", .fn = opt_header,
	    .flags = OF_MANY },
	{ "data", 'd', ARG_STRING, REQUEST, F(data), "DATA",
	    .help = "send DATA as the body; @FILE sends a file's bytes "
	    "unchanged (64 MiB at most); repeated -d are joined by &",
	    .fn = opt_data, .flags = OF_MANY },
	{ "json", 0, ARG_STRING, REQUEST, F(data), "DATA",
	    .help = "send DATA (@FILE: a file's bytes) as the body with "
	    "Content-Type and Accept application/json unless -H sets them; "
	    "repeated --json are joined as they are",
	    .fn = opt_data, .flags = OF_MANY },
	{ "user-agent", 'A', ARG_STRING, REQUEST, F(user_agent), "UA",
	    .help = "User-Agent (default gather/" GATHER_VERSION ")",
	    .fn = opt_user_agent },
	{ "location", 'L', ARG_FLAG, REQUEST, F(follow), NULL,
	    .help = "follow redirects (the default)", .val = 1 },
	{ "location-trusted", 0, ARG_NONE, REQUEST, F(location_trusted), NULL,
	    .help = "follow redirects and send -H headers and credentials "
	    "to other origins too", .fn = opt_location_trusted },
	{ "no-location", 0, ARG_FLAG, REQUEST, F(follow), NULL,
	    .help = "do not follow redirects", .val = 0 },
	{ "max-redirs", 0, ARG_COUNT, REQUEST, F(max_redirs), "N",
	    .help = "redirects followed at most (default 10)" },
	{ "compressed", 0, ARG_FLAG, REQUEST, F(compressed), NULL,
	    .help = "ask for and decode gzip, deflate, br, zstd (the default)",
	    .val = 1 },
	{ "no-compressed", 0, ARG_FLAG, REQUEST, F(compressed), NULL,
	    .help = "neither ask for nor decode compression", .val = 0 },
	{ "proto", 0, ARG_STRING, REQUEST, F(proto), "LIST",
	    .help = "allowed protocols, redirects included (default "
	    "http,https)",
	    .names = proto_names, .fn = opt_proto },
	{ "insecure", 'k', ARG_FLAG, REQUEST, F(insecure), NULL,
	    .help = "do not verify TLS certificates", .val = 1 },
	{ "cacert", 0, ARG_STRING, REQUEST, F(cacert), "FILE",
	    .help = "verify TLS certificates against FILE", .fn = opt_cacert },
	{ "proxy", 'x', ARG_STRING, REQUEST, F(proxy), "URL",
	    .help = "use this proxy" },
	{ "http1.1", 0, ARG_FLAG, REQUEST, F(http), NULL,
	    .help = "use HTTP/1.1 only", .val = HTTPV_1_1 },
	{ "http2-prior-knowledge", 0, ARG_FLAG, REQUEST, F(http), NULL,
	    .help = "HTTP/2 without TLS (h2c), one connection per transfer",
	    .val = HTTPV_2_PRIOR },
	{ "resolve", 0, ARG_STRING, REQUEST, F(resolve),
	    "HOST:PORT:ADDR[,ADDR]",
	    .help = "connect to ADDR for HOST:PORT (HOST * for any), keeping "
	    "the name for Host and TLS; repeatable", .fn = opt_resolve,
	    .flags = OF_MANY },
	{ "connect-to", 0, ARG_STRING, REQUEST, F(connect_to),
	    "HOST1:PORT1:HOST2:PORT2",
	    .help = "connect to HOST2:PORT2 for HOST1:PORT1 (an empty part "
	    "matches any, or keeps the URL's); repeatable",
	    .fn = opt_connect_to, .flags = OF_MANY },
	{ "ipv4", '4', ARG_FLAG, REQUEST, F(ip_version), NULL,
	    .help = "connect to IPv4 addresses only", .val = 4 },
	{ "ipv6", '6', ARG_FLAG, REQUEST, F(ip_version), NULL,
	    .help = "connect to IPv6 addresses only", .val = 6 },
	{ "unix-socket", 0, ARG_STRING, REQUEST, F(unix_socket), "PATH",
	    .help = "connect through the unix socket PATH instead of TCP",
	    .empty = "expected a socket's path" },
	{ "user", 0, ARG_STRING, REQUEST, F(user), "USER:PASSWORD",
	    .help = "basic authentication (-u is --unordered)", .fn = opt_user },
	{ "oauth2-bearer", 0, ARG_STRING, REQUEST, F(bearer), "TOKEN",
	    .help = "send Authorization: Bearer TOKEN",
	    .empty = "expected a token", .fn = opt_bearer },
	{ "netrc", 0, ARG_FLAG, REQUEST, F(netrc), NULL,
	    .help = "log in with the credentials ~/.netrc has for the host, "
	    "sent to the URL's origin only, as --user's",
	    .val = 1 },
	{ "netrc-file", 0, ARG_STRING, REQUEST, F(netrc_file), "FILE",
	    .help = "--netrc, reading FILE instead of ~/.netrc",
	    .fn = opt_netrc_file },
	{ "cookie", 'b', ARG_STRING, REQUEST, F(cookie_data), "DATA|FILE",
	    .help = "send cookies 'a=1; b=2', or load a cookie FILE (not "
	    "stdin) into the run's one cookie store; repeatable",
	    .empty = "expected cookies or a file", .fn = opt_cookie,
	    .flags = OF_MANY },
	{ "cookie-jar", 0, ARG_STRING, REQUEST, F(cookie_jar), "FILE",
	    .help = "write the run's cookie store to FILE at the end "
	    "(Netscape format; a new file renamed over FILE, never through a "
	    "link)", .empty = "expected a file",
	    .fn = opt_cookie_jar },
	{ "cert", 'E', ARG_STRING, REQUEST, F(cert), "FILE[:PASSWORD]",
	    .help = "TLS client certificate (PEM), its key's password after "
	    "a colon", .empty = "expected a file", .fn = opt_cert },
	{ "key", 0, ARG_STRING, REQUEST, F(key), "FILE",
	    .help = "the client certificate's private key, when not in "
	    "--cert's FILE", .empty = "expected a file", .fn = opt_key },

	{ "merge", 0, ARG_FLAG, OUTPUT, F(merge), NULL,
	    .help = "fetch nothing: the arguments are earlier outputs (jsonl "
	    "or json, - for stdin), each ordered by index; write one stream "
	    "ordered by index, the last file given winning where several "
	    "have an index; --format and --junit apply to it", .val = 1 },
	{ "format", 0, ARG_ENUM, OUTPUT, F(format), "FORMAT",
	    .help = "jsonl (default), json (one array) or tap (TAP version "
	    "13: ok N - URL per record, the plan 1..N last)",
	    .names = format_names },
	{ "body", 0, ARG_ENUM, OUTPUT, F(body), "MODE",
	    .help = "auto, text, base64, json or none (default auto)\n"
	    "auto: UTF-8 text as is, anything else base64;\n"
	    "text: invalid UTF-8 replaced by U+FFFD;\n"
	    "json: the parsed body embedded, else as auto",
	    .names = body_names },
	{ "max-body", 0, ARG_SIZE, OUTPUT, F(max_body), "SIZE",
	    .help = "abort bodies larger than SIZE as too_large; suffixes k, "
	    "M, G; 0 = no limit (default 16M; none with -o unless given)" },
	{ "include-headers", 'I', ARG_FLAG, OUTPUT, F(include_headers), NULL,
	    .help = "add the response headers to each record", .val = 1 },
	{ "output-dir", 'o', ARG_STRING, OUTPUT, F(output_dir), "DIR",
	    .help = "write each body to a file in DIR (created)",
	    .empty = "expected a directory" },
	{ "name", 0, ARG_STRING, OUTPUT, F(name_template), "TEMPLATE",
	    .help = "file name under -o: {index}, {host}, {name}, {path}, "
	    "{id} (default {index})", .empty = "the template is empty" },
	{ "continue", 0, ARG_FLAG, OUTPUT, F(cont), NULL,
	    .help = "with -o: go on with a NAME.part an earlier run left, "
	    "with Range and If-Range", .val = 1 },
	{ "hash", 0, ARG_STRING, OUTPUT, F(hashes), "ALG[,ALG]",
	    .help = "add hash {ALG: hex} of each body: sha256, sha1, md5",
	    .names = hash_names, .fn = opt_hash },
	{ "expect", 0, ARG_STRING, OUTPUT, F(expects), "EXPR",
	    .help = "a jq expression each ok record must satisfy, as printed; "
	    "false, null or an error fails it as expectation; repeatable",
	    .empty = "expected a jq expression", .fn = opt_expect,
	    .flags = OF_MANY },
	{ "junit", 0, ARG_STRING, OUTPUT, F(junit), "FILE",
	    .help = "write a JUnit XML report to FILE: a testcase per record, "
	    "a failure per failed one", .empty = "expected a file" },

	{ "input", 'i', ARG_STRING, MESSAGES, F(inputs), "FILE",
	    .help = "read records from FILE (- for stdin); repeatable: "
	    "files in order, one index sequence",
	    .empty = "expected a file name or -", .fn = opt_input,
	    .flags = OF_MANY },
	{ "progress", 0, ARG_FLAG, MESSAGES, F(progress), NULL,
	    .help = "a progress line on stderr, left as a final count (the "
	    "default when stderr is a terminal and stdout a file or "
	    "/dev/null; with stdout on that terminal only the count)",
	    .val = 1 },
	{ "no-progress", 0, ARG_FLAG, MESSAGES, F(progress), NULL,
	    .help = "no progress line", .val = 0 },
	{ "stats", 0, ARG_OPTIONAL, MESSAGES, F(stats), "[=json]",
	    .help = "a summary on stderr at the end: counts, latency "
	    "percentiles, rate", .names = stats_names, .fn = opt_stats },
	{ "quiet", 'q', ARG_FLAG, MESSAGES, F(quiet), NULL,
	    .help = "no progress, hint or -v lines (errors that stop the run, "
	    "and --stats when given, are still shown)", .val = 1 },
	{ "silent", 's', ARG_ALIAS, MESSAGES, NOFIELD, NULL,
	    .help = "the same as -q (curl's name)", .same = "quiet" },
	{ "verbose", 'v', ARG_INCR, MESSAGES, F(verbose), NULL,
	    .help = "one line per finished attempt on stderr",
	    .flags = OF_MANY },
	{ "version", 'V', ARG_NONE, MESSAGES, NOFIELD, NULL,
	    .help = "print versions of gather and its libraries",
	    .fn = opt_version, .flags = OF_ALONE },
	{ "help", 'h', ARG_NONE, MESSAGES, NOFIELD, NULL,
	    .help = "print this help", .fn = opt_help, .flags = OF_ALONE },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))
_Static_assert(NOPTIONS <= sizeof(((struct opts *)0)->given) * 8,
    "opts.given has a bit per row");

/* The row d stands for: itself, or the canonical row an alias names. */
static const struct option_def *
cli_canon(const struct option_def *d)
{
	size_t i;

	if (d->arg != ARG_ALIAS)
		return d;
	for (i = 0; i < NOPTIONS; i++)
		if (options[i].arg != ARG_ALIAS &&
		    strcmp(options[i].lname, d->same) == 0)
			return &options[i];
	/* A table that names no such row is a bug: every run finds it. */
	fprintf(stderr, "gather: option table: --%s names no row --%s\n",
	    d->lname, d->same);
	abort();
}

/* Whether the row called lname, or an alias of it, was given. */
static int
cli_given(const struct opts *o, const char *lname)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].lname, lname) == 0)
			return (o->given[i / 64] >> (i % 64)) & 1;
	return 0;
}

/* The row for --name (name is not NUL-terminated: it may go on to =). */
static const struct option_def *
cli_find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].lname) == len &&
		    strncmp(options[i].lname, name, len) == 0)
			return &options[i];
	return NULL;
}

/* The row for -c. */
static const struct option_def *
cli_find_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (options[i].sname == c)
			return &options[i];
	return NULL;
}

/* Whether the option is given without a value, as -k or --fail. */
static int
cli_is_flag(const struct option_def *d)
{
	return d->arg == ARG_NONE || d->arg == ARG_FLAG || d->arg == ARG_INCR;
}

/* Write names as a reader says them: "a, b or c". */
static void
cli_join_names(char *s, size_t len, const char *const *names)
{
	size_t	i, n;

	s[0] = '\0';
	for (i = 0; names[i] != NULL; i++) {
		n = strlen(s);
		snprintf(s + n, len - n, "%s%s", i == 0 ? "" :
		    names[i + 1] == NULL ? " or " : ", ", names[i]);
	}
}

/* Parse a's value by the row's type into a, checking it on the way. */
static enum cli_status
cli_value(struct cli_arg *a)
{
	const struct option_def	*d = a->d;
	char			 list[128];
	int			 i;

	switch (d->arg) {
	case ARG_COUNT:
		if (parse_count(a->val, d->min, MAX_COUNT, &a->n) == -1)
			return cli_bad(a, "expected a whole number from %ld to "
			    "%d, not '%s'", d->min, MAX_COUNT, a->val);
		break;
	case ARG_SECONDS:
		if (parse_seconds(a->val, &a->secs) == -1)
			return cli_bad(a, "expected seconds (for example 2 or "
			    "0.5), not '%s'", a->val);
		break;
	case ARG_SIZE:
		if (parse_size(a->val, &a->size) == -1)
			return cli_bad(a, "expected a size (for example 512k, "
			    "16M or 1G), not '%s'", a->val);
		break;
	case ARG_ENUM:
		for (i = 0; d->names[i] != NULL; i++)
			if (strcmp(a->val, d->names[i]) == 0)
				break;
		a->idx = i;
		if (d->names[i] != NULL)
			break;
		cli_join_names(list, sizeof(list), d->names);
		return cli_bad(a, "expected %s, not '%s'", list, a->val);
	case ARG_STRING:
		if (d->empty != NULL && a->val[0] == '\0')
			return cli_bad(a, "%s", d->empty);
		break;
	default:
		break;
	}
	return CLI_RUN;
}

/* Apply one option: its handler, or else its value stored in its field. */
static enum cli_status
cli_apply(struct opts *o, struct cli_arg *a)
{
	const struct option_def	*d = a->d;
	char			*field;
	enum cli_status		 st;

	if ((st = cli_value(a)) != CLI_RUN)
		return st;
	o->given[(size_t)(d - options) / 64] |=
	    (uint64_t)1 << ((size_t)(d - options) % 64);
	cli_habit_warn(a, a->shown, a->val);
	if (d->fn != NULL)
		return d->fn(o, a);
	field = (char *)o + d->off;
	switch (d->arg) {
	case ARG_FLAG:
		*(int *)field = d->val;
		break;
	case ARG_INCR:
		(*(int *)field)++;
		break;
	case ARG_COUNT:
		*(long *)field = a->n;
		break;
	case ARG_SECONDS:
		/* Not through a double pointer: field is only bytes here. */
		memcpy(field, &a->secs, sizeof(a->secs));
		break;
	case ARG_SIZE:
		*(uint64_t *)field = a->size;
		break;
	case ARG_ENUM:
		*(int *)field = a->idx;
		break;
	case ARG_STRING:
		*(const char **)field = a->val;
		break;
	default:
		break;
	}
	return CLI_RUN;
}

/* Edits (a letter put in, taken out or changed) that turn a into b. */
static size_t
cli_distance(const char *a, size_t an, const char *b)
{
	size_t	row[64], bn = strlen(b), i, j, diag, up, best;

	if (an >= 64 || bn >= 64)
		return SIZE_MAX;
	for (j = 0; j <= bn; j++)
		row[j] = j;
	for (i = 1; i <= an; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= bn; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[bn];
}

/*
 * The option a mistyped or shortened name most likely meant: the only one
 * it starts, else the nearest within one edit per three letters; NULL.
 */
static const char *
cli_nearest(const char *name, size_t len)
{
	const char	*pick = NULL;
	size_t		 i, d, best = SIZE_MAX, prefixed = 0;

	for (i = 0; i < NOPTIONS; i++)
		if (len > 0 && strncmp(options[i].lname, name, len) == 0) {
			pick = options[i].lname;
			prefixed++;
		}
	if (prefixed == 1)
		return pick;
	pick = NULL;
	for (i = 0; i < NOPTIONS; i++)
		if ((d = cli_distance(name, len, options[i].lname)) < best) {
			best = d;
			pick = options[i].lname;
		}
	return best * 3 <= len ? pick : NULL;
}

/* An option name that no row has; name, len: a long one, to suggest for. */
static enum cli_status
cli_unknown(const struct cli_arg *a, const char *name, size_t len)
{
	const char *near = name != NULL ? cli_nearest(name, len) : NULL;

	if (near != NULL)
		return cli_usage(a->err, a->errlen, "unknown option '%s': did "
		    "you mean --%s? (see gather --help)", a->shown, near);
	return cli_usage(a->err, a->errlen, "unknown option '%s' (see gather "
	    "--help)", a->shown);
}

/* Apply argv[*i], a long option: --name, --name=value or --name value. */
static enum cli_status
cli_long(struct opts *o, struct cli_arg *a, int argc, char **argv, int *i)
{
	const char	*name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t		 len = eq ? (size_t)(eq - name) : strlen(name);

	snprintf(a->shown, sizeof(a->shown), "--%.*s", eq ? (int)len : 48,
	    name);
	if ((a->d = cli_find_long(name, len)) == NULL)
		return cli_habit(a, argv[*i], len + 2) != CLI_RUN ?
		    CLI_USAGE : cli_unknown(a, name, len);
	a->d = cli_canon(a->d);
	if (a->d->arg == ARG_OPTIONAL)
		a->val = eq ? eq + 1 : NULL;
	else if (cli_is_flag(a->d)) {
		if (eq)
			return cli_usage(a->err, a->errlen, "%s takes no value",
			    a->shown);
		a->val = NULL;
	} else if (eq)
		a->val = eq + 1;
	else if (*i + 1 < argc)
		a->val = argv[++*i];
	else
		return cli_usage(a->err, a->errlen, "%s needs a value",
		    a->shown);
	return cli_apply(o, a);
}

/* Apply argv[*i], a cluster of short options: -qv, -c8, -c 8. */
static enum cli_status
cli_shorts(struct opts *o, struct cli_arg *a, int argc, char **argv, int *i)
{
	const char	*s = argv[*i];
	enum cli_status	 st;
	size_t		 j;

	for (j = 1; s[j] != '\0'; j++) {
		snprintf(a->shown, sizeof(a->shown), "-%c", s[j]);
		if ((a->d = cli_find_short(s[j])) == NULL)
			return cli_habit(a, a->shown, 2) != CLI_RUN ?
			    CLI_USAGE : cli_unknown(a, NULL, 0);
		a->d = cli_canon(a->d);
		a->val = NULL;
		if (!cli_is_flag(a->d) && a->d->arg != ARG_OPTIONAL) {
			if (s[j + 1] != '\0')
				a->val = s + j + 1;
			else if (*i + 1 < argc)
				a->val = argv[++*i];
			else
				return cli_usage(a->err, a->errlen, "%s needs "
				    "a value", a->shown);
		}
		if ((st = cli_apply(o, a)) != CLI_RUN || a->val != NULL)
			return st;
	}
	/* A flag last, as -u: the next word may be what curl meant by it. */
	cli_habit_warn(a, a->shown, *i + 1 < argc ? argv[*i + 1] : NULL);
	return CLI_RUN;
}

/* --name's default; another pointer means --name was given. */
static const char default_name[] = "{index}";

/* The values that hold unless an option says otherwise. */
static void
cli_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 32;
	o->jobs = 1;
	o->timeout = 30;
	o->fail = -1;
	o->speed_time = -1;
	o->connect_timeout = 10;
	o->retry_delay = 0.5;
	o->retry_max_delay = 30;
	o->follow = 1;
	o->max_redirs = 10;
	strcpy(o->proto, "http,https");
	o->compressed = 1;
	o->body = BODY_AUTO;
	o->max_body = 16 * 1024 * 1024;
	o->name_template = default_name;
	o->progress = -1;
	policy_retry_default(&o->retry_on);
}

/*
 * Whether a -H header names the header called name (with its colon).  The
 * list ends with a NULL (cli_parse leaves room for one): walk to it.
 */
static int
cli_has_header(const struct opts *o, const char *name)
{
	const char	*h;
	size_t		 i, n = strlen(name);

	for (i = 0; i < o->nheaders && (h = o->headers[i]) != NULL; i++)
		if (strncasecmp(h, name, n - 1) == 0 &&
		    (h[n - 1] == ':' || h[n - 1] == ';'))
			return 1;
	return 0;
}

/*
 * Whether one of the files is stdout opened by '>': the shell has emptied
 * it, and the earlier output is gone.  Appending ('>>') is fine, since the
 * file is read whole before anything is written.
 */
static int
cli_stdout_is(char *const *files, size_t n, const char *opt, char *err,
    size_t errlen)
{
	struct stat	out, st;
	size_t		i;
	int		fl;

	if (fstat(STDOUT_FILENO, &out) == -1 || !S_ISREG(out.st_mode) ||
	    ((fl = fcntl(STDOUT_FILENO, F_GETFL)) != -1 && (fl & O_APPEND)))
		return 0;
	for (i = 0; files != NULL && i < n; i++)
		if (files[i] != NULL && stat(files[i], &st) == 0 &&
		    st.st_dev == out.st_dev &&
		    st.st_ino == out.st_ino) {
			cli_usage(err, errlen, "%s %s: the file is also stdout, "
			    "which '>' has emptied; write to another file, or "
			    "append with '>>'", opt, files[i]);
			return 1;
		}
	return 0;
}

/* --merge: files to read, and none of the options that read input. */
static enum cli_status
cli_merge(const struct opts *o, char *err, size_t errlen)
{
	size_t i, dashes = 0;

	if (o->nurls == 0)
		return cli_usage(err, errlen, "--merge needs files to merge "
		    "(- for stdin)");
	for (i = 0; o->urls != NULL && i < o->nurls; i++)
		dashes += o->urls[i] != NULL && strcmp(o->urls[i], "-") == 0;
	if (dashes > 1)
		return cli_usage(err, errlen, "--merge: - (stdin) may be given "
		    "once");
	if (o->ninputs > 0 || o->resume != NULL || o->revalidate != NULL ||
	    o->shard_n != 0 || o->output_dir != NULL)
		return cli_usage(err, errlen, "--merge reads earlier outputs "
		    "and fetches nothing: -i, --shard, --resume, --revalidate "
		    "and -o do not apply");
	return CLI_RUN;
}

/* Settle what depends on several options, once all are read. */
static enum cli_status
cli_finish(struct opts *o, char *err, size_t errlen)
{
	if (o->merge && cli_merge(o, err, errlen) != CLI_RUN)
		return CLI_USAGE;
	if (o->jobs != 1 && (o->output_dir != NULL || o->ncookie_files > 0 ||
	    o->cookie_jar != NULL || o->format == FORMAT_TAP ||
	    o->junit != NULL))
		return cli_usage(err, errlen, "-j does not work with -o, -b FILE, "
		    "--cookie-jar, --format tap or --junit yet");
	if (o->output_dir && !cli_given(o, "max-body"))
		o->max_body = 0;	/* files are not held in memory */
	if (o->cont && o->output_dir == NULL)
		return cli_usage(err, errlen, "--continue needs -o");
	if (o->name_template != default_name && o->output_dir == NULL)
		return cli_usage(err, errlen, "--name needs -o");
	if (cli_stdout_is(o->resumes, o->nresumes, "--resume", err, errlen) ||
	    cli_stdout_is(o->revalidates, o->nrevalidates, "--revalidate",
	    err, errlen))
		return CLI_USAGE;
	/*
	 * A big download may take longer than any fixed limit: under -o only
	 * a stall ends it, unless the user said otherwise.
	 */
	if (o->fail == -1)
		o->fail = o->output_dir != NULL;
	if (o->output_dir && !cli_given(o, "timeout"))
		o->timeout = 0;
	if (o->output_dir && !cli_given(o, "speed-limit"))
		o->speed_limit = 1;
	if (o->speed_time == -1)
		o->speed_time = 30;
	if (o->window == 0)
		o->window = o->concurrency * 4 < 256 ? 256 : o->concurrency * 4;
	if (o->window < o->concurrency)
		return cli_usage(err, errlen, "--window must be at least "
		    "--concurrency (%ld)", o->concurrency);
	if (o->quiet)
		o->progress = 0;
	if (o->user != NULL && o->bearer != NULL)
		return cli_usage(err, errlen, "--user and --oauth2-bearer "
		    "exclude each other");
	/* Read now: a file that cannot be read is a usage error. */
	if (o->netrc && (o->netrc_tab = netrc_load(o->netrc_file, err,
	    errlen)) == NULL)
		return CLI_USAGE;
	if (o->retry_all)
		policy_retry_all(&o->retry_on, o->fail);
	/* --json's headers, as curl's, unless -H gave its own. */
	if (o->json && !cli_has_header(o, "Content-Type:"))
		o->headers[o->nheaders++] =
		    (char *)(uintptr_t)"Content-Type: application/json";
	if (o->json && !cli_has_header(o, "Accept:"))
		o->headers[o->nheaders++] =
		    (char *)(uintptr_t)"Accept: application/json";
	return CLI_RUN;
}

/*
 * Print the table for tools/completions.sh, one row a line, fields split
 * by tabs: heading, long, short, kind (flag, value or optional), how
 * often (once, many or alone), the field's offset (options sharing a field
 * exclude each other), the value's name, its values, the help's first line.
 */
static void
cli_dump(void)
{
	const struct option_def	*d;
	const char		*kind, *times;
	size_t			 i, j;

	for (i = 0; i < NOPTIONS; i++) {
		/* An alias is its canonical row under other names. */
		d = cli_canon(&options[i]);
		kind = d->arg == ARG_OPTIONAL ? "optional" :
		    cli_is_flag(d) ? "flag" : "value";
		times = d->flags & OF_ALONE ? "alone" :
		    d->flags & OF_MANY ? "many" : "once";
		printf("%s\t%s\t%c\t%s\t%s\t", group_names[options[i].group],
		    options[i].lname, options[i].sname ? options[i].sname : '-',
		    kind, times);
		if (d->off == NOFIELD)
			printf("-\t");
		else
			printf("%zu\t", d->off);
		printf("%s\t", d->meta ? d->meta : "-");
		for (j = 0; d->names != NULL && d->names[j] != NULL; j++)
			printf("%s%s", j ? " " : "", d->names[j]);
		printf("%s\t%.*s\n", j ? "" : "-",
		    (int)strcspn(options[i].help, "\n"), options[i].help);
	}
}

/*
 * Take s as a URL argument; after_stats: it follows a bare --stats, where
 * json and text meant its value.
 */
static enum cli_status
cli_url(struct opts *o, char *s, int after_stats, char *err, size_t errlen)
{
	if (after_stats && (strcmp(s, "json") == 0 || strcmp(s, "text") == 0))
		return cli_usage(err, errlen, "--stats takes its value only "
		    "after '=': --stats=%s ('%s' alone would be fetched as a "
		    "URL)", s, s);
	o->urls[o->nurls++] = s;
	return CLI_RUN;
}

/* Parse argv into o; options and URLs may come in any order. */
enum cli_status
cli_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct cli_arg	 a;
	enum cli_status	 st = CLI_RUN;
	const char	*s;
	int		 i, only_urls = 0, bare_stats = 0;

	cli_defaults(o);
	/* Not a row: the table itself, for tools/completions.sh. */
	if (argc == 2 && strcmp(argv[1], "--dump-options") == 0) {
		cli_dump();
		return CLI_EXIT_OK;
	}
	if ((o->urls = calloc((size_t)argc + 1, sizeof(char *))) == NULL ||
	    (o->headers = calloc((size_t)argc + 2, sizeof(char *))) == NULL ||
	    (o->inputs = calloc((size_t)argc + 1, sizeof(char *))) == NULL ||
	    (o->expects = calloc((size_t)argc + 1, sizeof(char *))) == NULL ||
	    (o->resolve = calloc((size_t)argc + 1, sizeof(char *))) == NULL ||
	    (o->connect_to = calloc((size_t)argc + 1, sizeof(char *))) ==
	    NULL ||
	    (o->cookie_data = calloc((size_t)argc + 1, sizeof(char *))) ==
	    NULL ||
	    (o->cookie_files = calloc((size_t)argc + 1, sizeof(char *))) ==
	    NULL ||
	    (o->resumes = calloc((size_t)argc + 1, sizeof(char *))) == NULL ||
	    (o->revalidates = calloc((size_t)argc + 1, sizeof(char *))) ==
	    NULL)
		return cli_usage(err, errlen, "out of memory");
	memset(&a, 0, sizeof(a));
	a.err = err;
	a.errlen = errlen;
	for (i = 1; i < argc && st == CLI_RUN; i++) {
		s = argv[i];
		if (only_urls || s[0] != '-' || s[1] == '\0')
			st = cli_url(o, argv[i], bare_stats && !only_urls, err,
			    errlen);
		else if (strcmp(s, "--") == 0)
			only_urls = 1;
		else if (s[1] == '-')
			st = cli_long(o, &a, argc, argv, &i);
		else
			st = cli_shorts(o, &a, argc, argv, &i);
		/* --stats takes no word after it: its value needs '='. */
		bare_stats = strcmp(s, "--stats") == 0;
	}
	if (st != CLI_RUN || (st = cli_finish(o, err, errlen)) != CLI_RUN)
		return st;
	cli_habit_say(o, &a);
	return CLI_RUN;
}

/* Free what cli_parse allocated; the strings belong to argv. */
void
cli_free(struct opts *o)
{
	free(o->urls);
	free(o->headers);
	free(o->inputs);
	free(o->expects);
	o->expects = NULL;
	free(o->resolve);
	free(o->connect_to);
	free(o->cookie_data);
	free(o->cookie_files);
	free(o->resumes);
	free(o->revalidates);
	free(o->cert);
	free(o->cert_pass);
	netrc_free(o->netrc_tab);
	o->netrc_tab = NULL;
	buf_free(&o->data);
	o->urls = o->headers = o->inputs = NULL;
	o->resolve = o->connect_to = o->cookie_data = o->cookie_files = NULL;
	o->cert = o->cert_pass = NULL;
	o->resumes = o->revalidates = NULL;
}

/* Print help text s from column col on, wrapped under HELP_COL. */
static void
cli_help_text(const char *s, int col)
{
	size_t	len;
	int	used = 0;

	printf("%*s", HELP_COL - col, "");
	while (*s != '\0') {
		if (*s == ' ' || *s == '\n') {
			if (*s++ == '\n' && used > 0) {
				printf("\n%*s", HELP_COL, "");
				used = 0;
			}
			continue;
		}
		len = strcspn(s, " \n");
		if (used > 0 && HELP_COL + used + 1 + (int)len > HELP_WIDTH) {
			printf("\n%*s", HELP_COL, "");
			used = 0;
		}
		printf("%s%.*s", used > 0 ? " " : "", (int)len, s);
		used += (used > 0) + (int)len;
		s += len;
	}
	putchar('\n');
}

/* Print one row of the option list: its names, its value, its help. */
static void
cli_help_option(const struct option_def *row)
{
	const struct option_def	*d = cli_canon(row);
	char			 head[64];
	int			 n;

	if (row->sname)
		n = snprintf(head, sizeof(head), "  -%c, --%s", row->sname,
		    row->lname);
	else
		n = snprintf(head, sizeof(head), "      --%s", row->lname);
	if (d->meta != NULL && n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s%s",
		    d->arg == ARG_OPTIONAL ? "" : " ", d->meta);
	fputs(head, stdout);
	/* A name too long for the column puts its text on the next line. */
	if (n > HELP_COL - 2) {
		putchar('\n');
		n = 0;
	}
	cli_help_text(row->help, n);
}

/* Print --help: usage, then the table under its headings, then the rest. */
void
cli_help(void)
{
	size_t i;

	fputs(
"Usage: gather [OPTIONS] URL...\n"
"       gather [OPTIONS] -i FILE\n"
"       producer | gather [OPTIONS]\n"
"\n"
"Fetch many URLs concurrently and write one JSON record per URL, in input\n"
"order, as soon as each is ready (JSON Lines on stdout).\n"
"\n"
"Input: one record per line; blank lines and lines starting with # are\n"
"skipped; a line without a scheme gets http://.  A line starting with {\n"
"is a request object: {\"url\": ..., \"method\": ..., \"headers\": {...},\n"
"\"body\": ..., \"timeout\": SEC, \"id\": ANY, \"sha256\": HEX, \"user\":\n"
"\"U:P\", \"bearer\": TOKEN}; its fields override the options.  URL\n"
"arguments come first (- reads stdin there), then each -i FILE in order;\n"
"with neither, stdin.\n",
	    stdout);
	for (i = 0; i < NOPTIONS; i++) {
		if (i == 0 || options[i].group != options[i - 1].group)
			printf("\n%s:\n", group_names[options[i].group]);
		cli_help_option(&options[i]);
	}
	fputs(
"\n"
"Each record: index, url, id, ok, status, not_modified, http_version,\n"
"effective_url, redirects, content_type, etag, last_modified, size, body,\n"
"body_encoding, headers, file, hash, remote_ip, remote_port,\n"
"connection_reused, time {queue, dns, connect, tls, ttfb, total},\n"
"attempts, error {kind, message, curl_code}.\n"
"\n"
"Exit status: 0 all records ok, 1 some record not ok, 2 usage error,\n"
"3 input not readable, 130/143 SIGINT/SIGTERM, 141 stdout closed.\n"
"See gather(1) for the whole story.\n", stdout);
}

/* Print the versions of gather and of the libraries it runs on. */
void
cli_version(void)
{
	printf("gather %s (%s; libev %d.%d; cJSON %s)\n", GATHER_VERSION,
	    curl_version(), ev_version_major(), ev_version_minor(),
	    cJSON_Version());
}
