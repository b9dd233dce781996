/*
 * cli: the option table and what it drives.  Each option is one row naming
 * its long and short form, the type of its value, the field of struct opts
 * it sets, the value's name and its help; the same rows make the parser,
 * the option list of --help and, through --dump-options and
 * tools/completions.sh, both shell completions, so none of them can forget
 * an option.  Values are checked before anything is fetched, so that a
 * usage error costs nothing and says one line.  This file holds the table
 * and the parser; the handlers and checks the rows name are cli_opts.c's,
 * the defaults and the rules between options cli_finish.c's, and what is
 * said back to a person (--help, --version, habits, suggestions)
 * cli_help.c's.
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
#include "gather/cli_def.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/msg.h"
#include "gather/netrc.h"
#include "gather/units.h"

const char *const cli_group_names[] = {
	"Scheduling", "Requests", "Output", "Input and messages"
};

/* ARG_FLAG and ARG_ENUM store an int into these. */
_Static_assert(sizeof(enum http_version) == sizeof(int), "enum http_version");
_Static_assert(sizeof(enum body_mode) == sizeof(int), "enum body_mode");
_Static_assert(sizeof(enum format) == sizeof(int), "enum format");

static const char *const body_names[] = {
	"auto", "text", "base64", "json", "none", NULL
};

static const char *const format_names[] = { "jsonl", "json", "tap", NULL };

static const char *const stats_names[] = { "text", "json", NULL };

/* --hash: bit i of opts.hashes is cli_hash_names[i]. */
const char *const cli_hash_names[] = { "sha256", "sha1", "md5", NULL };

/* Only what completion offers after -X: any token is a method. */
static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
};

/* Protocols --proto may name: those libcurl can speak. */
const char *const cli_proto_names[] = {
	"dict", "file", "ftp", "ftps", "gopher", "gophers", "http", "https",
	"imap", "imaps", "ldap", "ldaps", "mqtt", "pop3", "pop3s", "rtmp",
	"rtsp", "scp", "sftp", "smb", "smbs", "smtp", "smtps", "telnet", "tftp",
	NULL
};

/*
 * In --help order.  Plain options need only their row; tests/docs.bats
 * checks every row against --help, the man page and the completions, and
 * tests/outputs.bats reads the rows' first lines, so each row starts with
 * { "long", 'short', ARG_....
 */
const struct option_def cli_options[] = {
	{ "concurrency", 'c', ARG_COUNT, SCHED, F(concurrency), "N",
	    .help = "transfers in flight at most (default 32)", .min = 1 },
	{ "jobs", 'j', ARG_COUNT, SCHED, F(jobs), "N",
	    .help = "worker processes, each with its own event loop, records "
	    "going to them by host (default 1; 0 = one per online CPU); -c, "
	    "--rate and --window stay totals, and every other option (-o, "
	    "--cookie-jar, --format tap, --junit) works as without -j; a "
	    "signal, --deadline or --fail-fast ends the workers' transfers "
	    "as -j 1 ends its own, and a worker that does not answer within "
	    "5 s is killed, its records other" },
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
	    .help = "User-Agent (default gather/" GATHER_VERSION "; \"\": none)",
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
	    .names = cli_proto_names, .fn = opt_proto },
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
	    .names = cli_hash_names, .fn = opt_hash },
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
#define NOPTIONS (sizeof(cli_options) / sizeof(cli_options[0]))
const size_t cli_noptions = NOPTIONS;
_Static_assert(NOPTIONS <= sizeof(((struct opts *)0)->given) * 8,
    "opts.given has a bit per row");

/* The row d stands for: itself, or the canonical row an alias names. */
const struct option_def *
cli_canon(const struct option_def *d)
{
	size_t i;

	if (d->arg != ARG_ALIAS)
		return d;
	for (i = 0; i < cli_noptions; i++)
		if (cli_options[i].arg != ARG_ALIAS &&
		    strcmp(cli_options[i].lname, d->same) == 0)
			return &cli_options[i];
	/* A table that names no such row is a bug: every run finds it. */
	msg_error("option table: --%s names no row --%s",
	    d->lname, d->same);
	abort();
}

/* Whether the row called lname, or an alias of it, was given. */
int
cli_given(const struct opts *o, const char *lname)
{
	size_t i;

	for (i = 0; i < cli_noptions; i++)
		if (strcmp(cli_options[i].lname, lname) == 0)
			return (o->given[i / 64] >> (i % 64)) & 1;
	return 0;
}

/* The row for --name (name is not NUL-terminated: it may go on to =). */
static const struct option_def *
cli_find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < cli_noptions; i++)
		if (strlen(cli_options[i].lname) == len &&
		    strncmp(cli_options[i].lname, name, len) == 0)
			return &cli_options[i];
	return NULL;
}

/* The row for -c. */
static const struct option_def *
cli_find_short(char c)
{
	size_t i;

	for (i = 0; i < cli_noptions; i++)
		if (cli_options[i].sname == c)
			return &cli_options[i];
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
	o->given[(size_t)(d - cli_options) / 64] |=
	    (uint64_t)1 << ((size_t)(d - cli_options) % 64);
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

	for (i = 0; i < cli_noptions; i++) {
		/* An alias is its canonical row under other names. */
		d = cli_canon(&cli_options[i]);
		kind = d->arg == ARG_OPTIONAL ? "optional" :
		    cli_is_flag(d) ? "flag" : "value";
		times = d->flags & OF_ALONE ? "alone" :
		    d->flags & OF_MANY ? "many" : "once";
		printf("%s\t%s\t%c\t%s\t%s\t", cli_group_names[cli_options[i].group],
		    cli_options[i].lname, cli_options[i].sname ? cli_options[i].sname : '-',
		    kind, times);
		if (d->off == NOFIELD)
			printf("-\t");
		else
			printf("%zu\t", d->off);
		printf("%s\t", d->meta ? d->meta : "-");
		for (j = 0; d->names != NULL && d->names[j] != NULL; j++)
			printf("%s%s", j ? " " : "", d->names[j]);
		printf("%s\t%.*s\n", j ? "" : "-",
		    (int)strcspn(cli_options[i].help, "\n"), cli_options[i].help);
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

