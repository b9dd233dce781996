/*
 * cli: the option table and its parser.  Every option is one row of a
 * sorted table naming its long and short form, the type of its value and
 * its id; values are checked here, before anything is fetched, so that a
 * usage error costs nothing and says one line.  Options that curl has keep
 * curl's names and meaning.
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
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>

enum arg_type {
	ARG_NONE,
	ARG_COUNT,	/* 1 .. MAX_COUNT */
	ARG_COUNT0,	/* 0 .. MAX_COUNT */
	ARG_SECONDS,
	ARG_SIZE,
	ARG_STRING,
	ARG_OPTIONAL	/* a value only as --name=value */
};

enum opt_id {
	OPT_BODY,
	OPT_CACERT,
	OPT_COMPRESSED,
	OPT_CONCURRENCY,
	OPT_CONNECT_TIMEOUT,
	OPT_DATA,
	OPT_DEADLINE,
	OPT_FAIL,
	OPT_FAIL_FAST,
	OPT_FORMAT,
	OPT_HEADER,
	OPT_HELP,
	OPT_HTTP1_1,
	OPT_HTTP2_PRIOR,
	OPT_INCLUDE_HEADERS,
	OPT_INPUT,
	OPT_INSECURE,
	OPT_LOCATION,
	OPT_LOCATION_TRUSTED,
	OPT_MAX_BODY,
	OPT_MAX_REDIRS,
	OPT_NAME,
	OPT_NO_COMPRESSED,
	OPT_NO_LOCATION,
	OPT_NO_PROGRESS,
	OPT_OUTPUT_DIR,
	OPT_PER_HOST,
	OPT_PROGRESS,
	OPT_PROTO,
	OPT_PROXY,
	OPT_QUIET,
	OPT_RATE,
	OPT_REQUEST,
	OPT_RESUME,
	OPT_RETRIES,
	OPT_RETRY_DELAY,
	OPT_RETRY_MAX_DELAY,
	OPT_SHARD,
	OPT_STATS,
	OPT_TIMEOUT,
	OPT_UNORDERED,
	OPT_USER_AGENT,
	OPT_VERBOSE,
	OPT_VERSION,
	OPT_WINDOW
};

struct option_def {
	const char	*lname;
	char		 sname;
	enum arg_type	 arg;
	enum opt_id	 id;
};

/* Sorted by long name; tests/docs.bats checks each row against the docs. */
static const struct option_def options[] = {
	{ "body",		0,   ARG_STRING,  OPT_BODY },
	{ "cacert",		0,   ARG_STRING,  OPT_CACERT },
	{ "compressed",		0,   ARG_NONE,    OPT_COMPRESSED },
	{ "concurrency",	'c', ARG_COUNT,   OPT_CONCURRENCY },
	{ "connect-timeout",	0,   ARG_SECONDS, OPT_CONNECT_TIMEOUT },
	{ "data",		'd', ARG_STRING,  OPT_DATA },
	{ "deadline",		0,   ARG_SECONDS, OPT_DEADLINE },
	{ "fail",		0,   ARG_NONE,    OPT_FAIL },
	{ "fail-fast",		0,   ARG_NONE,    OPT_FAIL_FAST },
	{ "format",		0,   ARG_STRING,  OPT_FORMAT },
	{ "header",		'H', ARG_STRING,  OPT_HEADER },
	{ "help",		'h', ARG_NONE,    OPT_HELP },
	{ "http1.1",		0,   ARG_NONE,    OPT_HTTP1_1 },
	{ "http2-prior-knowledge", 0, ARG_NONE,   OPT_HTTP2_PRIOR },
	{ "include-headers",	'I', ARG_NONE,    OPT_INCLUDE_HEADERS },
	{ "input",		'i', ARG_STRING,  OPT_INPUT },
	{ "insecure",		'k', ARG_NONE,    OPT_INSECURE },
	{ "location",		'L', ARG_NONE,    OPT_LOCATION },
	{ "location-trusted",	0,   ARG_NONE,    OPT_LOCATION_TRUSTED },
	{ "max-body",		0,   ARG_SIZE,    OPT_MAX_BODY },
	{ "max-redirs",		0,   ARG_COUNT0,  OPT_MAX_REDIRS },
	{ "name",		0,   ARG_STRING,  OPT_NAME },
	{ "no-compressed",	0,   ARG_NONE,    OPT_NO_COMPRESSED },
	{ "no-location",	0,   ARG_NONE,    OPT_NO_LOCATION },
	{ "no-progress",	0,   ARG_NONE,    OPT_NO_PROGRESS },
	{ "output-dir",		'o', ARG_STRING,  OPT_OUTPUT_DIR },
	{ "per-host",		0,   ARG_COUNT0,  OPT_PER_HOST },
	{ "progress",		0,   ARG_NONE,    OPT_PROGRESS },
	{ "proto",		0,   ARG_STRING,  OPT_PROTO },
	{ "proxy",		'x', ARG_STRING,  OPT_PROXY },
	{ "quiet",		'q', ARG_NONE,    OPT_QUIET },
	{ "rate",		0,   ARG_STRING,  OPT_RATE },
	{ "request",		'X', ARG_STRING,  OPT_REQUEST },
	{ "resume",		0,   ARG_STRING,  OPT_RESUME },
	{ "retries",		0,   ARG_COUNT0,  OPT_RETRIES },
	{ "retry-delay",	0,   ARG_SECONDS, OPT_RETRY_DELAY },
	{ "retry-max-delay",	0,   ARG_SECONDS, OPT_RETRY_MAX_DELAY },
	{ "shard",		0,   ARG_STRING,  OPT_SHARD },
	{ "stats",		0,   ARG_OPTIONAL, OPT_STATS },
	{ "timeout",		't', ARG_SECONDS, OPT_TIMEOUT },
	{ "unordered",		'u', ARG_NONE,    OPT_UNORDERED },
	{ "user-agent",		'A', ARG_STRING,  OPT_USER_AGENT },
	{ "verbose",		'v', ARG_NONE,    OPT_VERBOSE },
	{ "version",		'V', ARG_NONE,    OPT_VERSION },
	{ "window",		0,   ARG_COUNT,   OPT_WINDOW },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

#define MAX_COUNT	100000
/* -d: what a body held in memory and copied per request may weigh. */
#define MAX_DATA	(64L * 1024 * 1024)

static const char *const body_names[] = {
	"auto", "text", "base64", "json", "none"
};

/* Protocols --proto may name: those libcurl can speak. */
static const char *const proto_names[] = {
	"dict", "file", "ftp", "ftps", "gopher", "gophers", "http", "https",
	"imap", "imaps", "ldap", "ldaps", "mqtt", "pop3", "pop3s", "rtmp",
	"rtsp", "scp", "sftp", "smb", "smbs", "smtp", "smtps", "telnet", "tftp"
};

static enum cli_status cli_usage(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

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

static const struct option_def *
cli_find_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (options[i].sname == c)
			return &options[i];
	return NULL;
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

/* Append the bytes of a -d value (or of the file after @) to o->data. */
static enum cli_status
cli_data(struct opts *o, const char *shown, const char *val, char *err,
    size_t errlen)
{
	char		chunk[65536];
	struct stat	st;
	size_t		room;
	ssize_t		n;
	int		fd, saved;

	if (o->has_data && buf_append(&o->data, "&", 1) == -1)
		return cli_usage(err, errlen, "out of memory");
	o->has_data = 1;
	if (val[0] != '@')
		return buf_append(&o->data, val, strlen(val)) == -1 ?
		    cli_usage(err, errlen, "out of memory") : CLI_RUN;
	if (cli_is_stdin(val + 1, -1))
		return cli_usage(err, errlen, "%s %s: reading data from stdin "
		    "is not supported (stdin may carry the URLs)", shown, val);
	if ((fd = open(val + 1, O_RDONLY | O_CLOEXEC)) == -1)
		return cli_usage(err, errlen, "%s: cannot open '%s': %s", shown,
		    val + 1, strerror(errno));
	if (cli_is_stdin(val + 1, fd)) {
		close(fd);
		return cli_usage(err, errlen, "%s %s: reading data from stdin "
		    "is not supported (stdin may carry the URLs)", shown, val);
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
			if (n == -1)
				break;
			if ((size_t)n > room)
				break;
			room -= (size_t)n;
			if (buf_append(&o->data, chunk, (size_t)n) == -1) {
				close(fd);
				return cli_usage(err, errlen, "out of memory");
			}
		}
	}
	saved = errno;
	close(fd);
	if (n == -1)
		return cli_usage(err, errlen, "%s: cannot read '%s': %s", shown,
		    val + 1, strerror(saved));
	if (n > 0)
		return cli_usage(err, errlen, "%s %s: larger than %ld bytes",
		    shown, val, MAX_DATA);
	return CLI_RUN;
}

/* Check a --proto list: known names separated by commas, "=" allowed. */
static enum cli_status
cli_proto(struct opts *o, const char *shown, const char *val, char *err,
    size_t errlen)
{
	const char	*p = val, *end;
	size_t		 len, i;

	if (*p == '=')
		p++;
	o->proto[0] = '\0';
	while (*p) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
			if (strlen(proto_names[i]) == len &&
			    strncasecmp(proto_names[i], p, len) == 0)
				break;
		if (i == sizeof(proto_names) / sizeof(proto_names[0]))
			return cli_usage(err, errlen, "%s: unknown protocol "
			    "'%.*s'", shown, (int)len, p);
		if (strlen(o->proto) + len + 2 > sizeof(o->proto))
			return cli_usage(err, errlen, "%s: list too long", shown);
		if (o->proto[0])
			strcat(o->proto, ",");
		strcat(o->proto, proto_names[i]);
		p += len;
		if (*p == ',')
			p++;
	}
	if (o->proto[0] == '\0')
		return cli_usage(err, errlen, "%s: expected a list of protocols "
		    "such as http,https", shown);
	return CLI_RUN;
}

/* A header as curl takes it: "Name: value", "Name:" or "Name;". */
static int
cli_header_ok(const char *h)
{
	const char *p;

	for (p = h; *p && *p != ':' && *p != ';'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	if (p == h || *p == '\0')
		return 0;
	for (; *p; p++)
		if (*p == '\r' || *p == '\n')
			return 0;
	return 1;
}

/* Apply one option and its value (NULL for flags) to o. */
static enum cli_status
cli_apply(struct opts *o, const struct option_def *d, const char *shown,
    const char *val, char *err, size_t errlen)
{
	double		secs = 0;
	uint64_t	size = 0;
	long		n = 0;
	size_t		i;

	switch (d->arg) {
	case ARG_COUNT:
	case ARG_COUNT0:
		if (parse_count(val, d->arg == ARG_COUNT ? 1 : 0, MAX_COUNT,
		    &n) == -1)
			return cli_usage(err, errlen, "%s: expected a whole "
			    "number from %d to %d, not '%s'", shown,
			    d->arg == ARG_COUNT ? 1 : 0, MAX_COUNT, val);
		break;
	case ARG_SECONDS:
		if (parse_seconds(val, &secs) == -1)
			return cli_usage(err, errlen, "%s: expected seconds "
			    "(for example 2 or 0.5), not '%s'", shown, val);
		break;
	case ARG_SIZE:
		if (parse_size(val, &size) == -1)
			return cli_usage(err, errlen, "%s: expected a size "
			    "(for example 512k, 16M or 1G), not '%s'", shown,
			    val);
		break;
	default:
		break;
	}

	switch (d->id) {
	case OPT_BODY:
		for (i = 0; i < sizeof(body_names) / sizeof(body_names[0]); i++)
			if (strcmp(val, body_names[i]) == 0)
				break;
		if (i == sizeof(body_names) / sizeof(body_names[0]))
			return cli_usage(err, errlen, "%s: expected auto, text, "
			    "base64, json or none, not '%s'", shown, val);
		o->body = (enum body_mode)i;
		break;
	case OPT_CACERT:
		if (access(val, R_OK) == -1)
			return cli_usage(err, errlen, "%s: cannot read '%s': %s",
			    shown, val, strerror(errno));
		o->cacert = val;
		break;
	case OPT_COMPRESSED:
		o->compressed = 1;
		break;
	case OPT_CONCURRENCY:
		o->concurrency = n;
		break;
	case OPT_CONNECT_TIMEOUT:
		o->connect_timeout = secs;
		break;
	case OPT_DATA:
		return cli_data(o, shown, val, err, errlen);
	case OPT_DEADLINE:
		o->deadline = secs;
		break;
	case OPT_FAIL:
		o->fail = 1;
		break;
	case OPT_FAIL_FAST:
		o->fail_fast = 1;
		break;
	case OPT_FORMAT:
		if (strcmp(val, "jsonl") == 0)
			o->format = FORMAT_JSONL;
		else if (strcmp(val, "json") == 0)
			o->format = FORMAT_JSON;
		else
			return cli_usage(err, errlen, "%s: expected jsonl or "
			    "json, not '%s'", shown, val);
		break;
	case OPT_HEADER:
		if (!cli_header_ok(val))
			return cli_usage(err, errlen, "%s: expected 'Name: "
			    "value', not '%s'", shown, val);
		o->headers[o->nheaders++] = (char *)val;
		break;
	case OPT_HELP:
		cli_help();
		return CLI_EXIT_OK;
	case OPT_HTTP1_1:
		o->http = HTTPV_1_1;
		break;
	case OPT_HTTP2_PRIOR:
		o->http = HTTPV_2_PRIOR;
		break;
	case OPT_INCLUDE_HEADERS:
		o->include_headers = 1;
		break;
	case OPT_INPUT:
		if (*val == '\0')
			return cli_usage(err, errlen, "%s: expected a file name "
			    "or -", shown);
		o->input = val;
		break;
	case OPT_INSECURE:
		o->insecure = 1;
		break;
	case OPT_LOCATION:
		o->follow = 1;
		break;
	case OPT_LOCATION_TRUSTED:
		o->follow = o->location_trusted = 1;
		break;
	case OPT_MAX_BODY:
		o->max_body = size;
		o->max_body_set = 1;
		break;
	case OPT_MAX_REDIRS:
		o->max_redirs = n;
		break;
	case OPT_NAME:
		if (*val == '\0')
			return cli_usage(err, errlen, "%s: the template is "
			    "empty", shown);
		o->name_template = val;
		break;
	case OPT_NO_COMPRESSED:
		o->compressed = 0;
		break;
	case OPT_NO_LOCATION:
		o->follow = 0;
		break;
	case OPT_NO_PROGRESS:
		o->progress = 0;
		break;
	case OPT_PER_HOST:
		o->per_host = n;
		break;
	case OPT_PROGRESS:
		o->progress = 1;
		break;
	case OPT_RATE:
		if (parse_rate(val, &o->rate) == -1)
			return cli_usage(err, errlen, "%s: expected starts per "
			    "unit such as 10, 10/s, 600/m or 5000/h, not '%s'",
			    shown, val);
		break;
	case OPT_RESUME:
		if (*val == '\0')
			return cli_usage(err, errlen, "%s: expected a file",
			    shown);
		o->resume = val;
		break;
	case OPT_SHARD:
		if (parse_shard(val, &o->shard_k, &o->shard_n) == -1)
			return cli_usage(err, errlen, "%s: expected K/N with "
			    "0 <= K < N, not '%s'", shown, val);
		break;
	case OPT_STATS:
		if (val == NULL || strcmp(val, "text") == 0)
			o->stats = STATS_TEXT;
		else if (strcmp(val, "json") == 0)
			o->stats = STATS_JSON;
		else
			return cli_usage(err, errlen, "%s: expected --stats or "
			    "--stats=json, not '%s'", shown, val);
		break;
	case OPT_WINDOW:
		o->window = n;
		break;
	case OPT_OUTPUT_DIR:
		if (*val == '\0')
			return cli_usage(err, errlen, "%s: expected a "
			    "directory", shown);
		o->output_dir = val;
		break;
	case OPT_PROTO:
		return cli_proto(o, shown, val, err, errlen);
	case OPT_PROXY:
		o->proxy = val;
		break;
	case OPT_QUIET:
		o->quiet = 1;
		break;
	case OPT_REQUEST:
		for (i = 0; val[i]; i++)
			if (val[i] <= ' ' || val[i] == 0x7f)
				break;
		if (i == 0 || val[i] != '\0')
			return cli_usage(err, errlen, "%s: expected a method "
			    "such as GET or POST, not '%s'", shown, val);
		o->method = val;
		break;
	case OPT_RETRIES:
		o->retries = n;
		break;
	case OPT_RETRY_DELAY:
		o->retry_delay = secs;
		break;
	case OPT_RETRY_MAX_DELAY:
		o->retry_max_delay = secs;
		break;
	case OPT_TIMEOUT:
		o->timeout = secs;
		break;
	case OPT_UNORDERED:
		o->unordered = 1;
		break;
	case OPT_USER_AGENT:
		for (i = 0; val[i]; i++)
			if (val[i] == '\r' || val[i] == '\n')
				return cli_usage(err, errlen, "%s: line breaks "
				    "are not allowed", shown);
		o->user_agent = val;
		break;
	case OPT_VERBOSE:
		o->verbose++;
		break;
	case OPT_VERSION:
		cli_version();
		return CLI_EXIT_OK;
	}
	return CLI_RUN;
}

static void
cli_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 32;
	o->timeout = 30;
	o->connect_timeout = 10;
	o->retry_delay = 0.5;
	o->retry_max_delay = 30;
	o->follow = 1;
	o->max_redirs = 10;
	strcpy(o->proto, "http,https");
	o->compressed = 1;
	o->body = BODY_AUTO;
	o->max_body = 16 * 1024 * 1024;
	o->name_template = "{index}";
	o->progress = -1;
}

/* Parse argv into o; options and URLs may come in any order. */
enum cli_status
cli_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
	const struct option_def	*d;
	enum cli_status		 st;
	const char		*a, *eq, *val;
	char			 shown[64];
	int			 i, only_urls = 0;
	size_t			 j;

	cli_defaults(o);
	if ((o->urls = calloc((size_t)argc + 1, sizeof(char *))) == NULL ||
	    (o->headers = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		return cli_usage(err, errlen, "out of memory");

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (only_urls || a[0] != '-' || a[1] == '\0') {
			o->urls[o->nurls++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_urls = 1;
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			d = cli_find_long(a + 2, eq ? (size_t)(eq - a - 2) :
			    strlen(a + 2));
			snprintf(shown, sizeof(shown), "--%.*s",
			    eq ? (int)(eq - a - 2) : 48, a + 2);
			if (d == NULL)
				return cli_usage(err, errlen, "unknown option "
				    "'%s' (see gather --help)", shown);
			if (d->arg == ARG_OPTIONAL)
				val = eq ? eq + 1 : NULL;
			else if (d->arg == ARG_NONE) {
				if (eq)
					return cli_usage(err, errlen, "%s takes "
					    "no value", shown);
				val = NULL;
			} else if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cli_usage(err, errlen, "%s needs a "
				    "value", shown);
			if ((st = cli_apply(o, d, shown, val, err, errlen)) !=
			    CLI_RUN)
				return st;
			continue;
		}
		/* A cluster of short options: -qv, -c8, -c 8. */
		for (j = 1; a[j] != '\0'; j++) {
			snprintf(shown, sizeof(shown), "-%c", a[j]);
			if ((d = cli_find_short(a[j])) == NULL)
				return cli_usage(err, errlen, "unknown option "
				    "'%s' (see gather --help)", shown);
			val = NULL;
			if (d->arg != ARG_NONE && d->arg != ARG_OPTIONAL) {
				if (a[j + 1] != '\0')
					val = a + j + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return cli_usage(err, errlen, "%s needs "
					    "a value", shown);
			}
			if ((st = cli_apply(o, d, shown, val, err, errlen)) !=
			    CLI_RUN)
				return st;
			if (val != NULL)
				break;
		}
	}

	if (o->output_dir && !o->max_body_set)
		o->max_body = 0;	/* files are not held in memory */
	if (o->window == 0)
		o->window = o->concurrency * 4 < 256 ? 256 : o->concurrency * 4;
	if (o->window < o->concurrency)
		return cli_usage(err, errlen, "--window must be at least "
		    "--concurrency (%ld)", o->concurrency);
	if (o->quiet)
		o->progress = 0;
	return CLI_RUN;
}

void
cli_free(struct opts *o)
{
	free(o->urls);
	free(o->headers);
	buf_free(&o->data);
	o->urls = o->headers = NULL;
}

void
cli_help(void)
{
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
"\"body\": ..., \"timeout\": SEC, \"id\": ANY}; its fields override the\n"
"options.  URL arguments come first, then -i FILE; with neither, stdin.\n"
"\n"
"Scheduling:\n"
"  -c, --concurrency N      transfers in flight at most (default 32)\n"
"  -t, --timeout SEC        limit for each attempt, fractions allowed;\n"
"                           0 = none (default 30)\n"
"      --connect-timeout SEC\n"
"                           limit for connecting; 0 = libcurl's default\n"
"                           (default 10)\n"
"      --deadline SEC       limit for the whole run; what is unfinished\n"
"                           then ends as deadline (default none)\n"
"      --retries N          retry dns, connect, timeout and reset failures\n"
"                           and HTTP 408, 429, 500, 502, 503, 504 (default 0)\n"
"      --retry-delay SEC    base of the exponential backoff (default 0.5)\n"
"      --retry-max-delay SEC\n"
"                           longest single wait (default 30); Retry-After\n"
"                           on 429 and 503 is honoured up to it\n"
"      --fail               HTTP status >= 400 after retries makes a record\n"
"                           fail (http)\n"
"      --fail-fast          the first failure cancels the rest and stops\n"
"                           reading input\n"
"      --rate N[/s|/m|/h]   start at most N requests per unit, evenly\n"
"                           spaced (default: no limit; unit /s)\n"
"      --per-host N         in flight to one host:port at most (0 = no\n"
"                           limit, the default)\n"
"  -u, --unordered          write records as they finish\n"
"      --window N           records read but not yet written, a slow head\n"
"                           included (default 4 x -c, at least 256, and\n"
"                           at least -c); when full, new starts pause\n"
"      --shard K/N          only records with index % N == K\n"
"      --resume FILE        skip records that FILE, an earlier jsonl\n"
"                           output, has as ok\n"
"\n"
"Requests:\n"
"  -X, --request METHOD     method (default GET, or POST with -d)\n"
"  -H, --header 'K: V'      add a header; repeatable\n"
"  -d, --data DATA          send DATA as the body; @FILE sends a file's\n"
"                           bytes unchanged (64 MiB at most); repeated -d\n"
"                           are joined by &\n"
"  -A, --user-agent UA      User-Agent (default gather/" GATHER_VERSION ")\n"
"  -L, --location           follow redirects (the default)\n"
"      --location-trusted   follow redirects and send -H headers and\n"
"                           credentials to other origins too\n"
"      --no-location        do not follow redirects\n"
"      --max-redirs N       redirects followed at most (default 10)\n"
"      --compressed         ask for and decode gzip, deflate, br, zstd\n"
"                           (the default)\n"
"      --no-compressed      neither ask for nor decode compression\n"
"      --proto LIST         allowed protocols, redirects included\n"
"                           (default http,https)\n"
"  -k, --insecure           do not verify TLS certificates\n"
"      --cacert FILE        verify TLS certificates against FILE\n"
"  -x, --proxy URL          use this proxy\n"
"      --http1.1            use HTTP/1.1 only\n"
"      --http2-prior-knowledge\n"
"                           HTTP/2 without TLS (h2c), one connection per\n"
"                           transfer\n"
"\n"
"Output:\n"
"      --format FORMAT      jsonl (default) or json (one array)\n"
"      --body MODE          auto, text, base64, json or none (default auto)\n"
"                           auto: UTF-8 text as is, anything else base64;\n"
"                           text: invalid UTF-8 replaced by U+FFFD;\n"
"                           json: the parsed body embedded, else as auto\n"
"      --max-body SIZE      abort bodies larger than SIZE as too_large;\n"
"                           suffixes k, M, G; 0 = no limit (default 16M;\n"
"                           none with -o unless given)\n"
"  -I, --include-headers    add the response headers to each record\n"
"  -o, --output-dir DIR     write each body to a file in DIR (created)\n"
"      --name TEMPLATE      file name under -o: {index}, {host}, {name},\n"
"                           {id} (default {index})\n"
"\n"
"Input and messages:\n"
"  -i, --input FILE         read records from FILE (- for stdin)\n"
"      --progress           a progress line on stderr (the default when\n"
"                           stderr is a terminal)\n"
"      --no-progress        no progress line\n"
"      --stats[=json]       a summary on stderr at the end: counts,\n"
"                           latency percentiles, rate\n"
"  -q, --quiet              no progress, warnings, -v lines or --stats\n"
"                           (errors that stop the run are still shown)\n"
"  -v, --verbose            one line per finished attempt on stderr\n"
"  -V, --version            print versions of gather and its libraries\n"
"  -h, --help               print this help\n"
"\n"
"Each record: index, url, id, ok, status, http_version, effective_url,\n"
"redirects, content_type, size, body, body_encoding, headers, file,\n"
"time {queue, dns, connect, tls, ttfb, total}, attempts,\n"
"error {kind, message, curl_code}.\n"
"\n"
"Exit status: 0 all records ok, 1 some record not ok, 2 usage error,\n"
"3 input not readable, 130/143 SIGINT/SIGTERM, 141 stdout closed.\n"
"See gather(1) for the whole story.\n", stdout);
}

void
cli_version(void)
{
	printf("gather %s (%s; libev %d.%d; cJSON %s)\n", GATHER_VERSION,
	    curl_version(), ev_version_major(), ev_version_minor(),
	    cJSON_Version());
}
