/*
 * cli_opts: the options with real logic, each a handler its table row
 * names, and the checks their values pass before anything is fetched: a
 * file that must be readable, an address, a port, a header, a list of
 * protocols or digests.  Each returns CLI_RUN or a one-line reason.
 */
#include "gather/cli_def.h"

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

#include "gather/netrc.h"
#include "gather/units.h"

/* Print a one-line reason into err; always returns CLI_USAGE. */
enum cli_status
cli_usage(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

/* The same, for a reason about an option's value: "--opt: reason". */
enum cli_status
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
enum cli_status
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
enum cli_status
opt_input(struct opts *o, struct cli_arg *a)
{
	o->inputs[o->ninputs++] = (char *)a->val;
	return CLI_RUN;
}

/* --expect: one more jq expression, compiled when the run is made. */
enum cli_status
opt_expect(struct opts *o, struct cli_arg *a)
{
	o->expects[o->nexpects++] = (char *)a->val;
	return CLI_RUN;
}

/* --resume and --revalidate: one more earlier output, read in order. */
enum cli_status
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
enum cli_status
opt_retry_on(struct opts *o, struct cli_arg *a)
{
	char why[200];

	if (policy_retry_parse(&o->retry_on, a->val, why, sizeof(why)) == -1)
		return cli_bad(a, "%s", why);
	return CLI_RUN;
}

/* --proto: known names separated by commas, curl's leading "=" allowed. */
enum cli_status
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
		for (i = 0; cli_proto_names[i] != NULL; i++)
			if (strlen(cli_proto_names[i]) == len &&
			    strncasecmp(cli_proto_names[i], p, len) == 0)
				break;
		if (cli_proto_names[i] == NULL)
			return cli_bad(a, "unknown protocol '%.*s'", (int)len,
			    p);
		if (strlen(o->proto) + len + 2 > sizeof(o->proto))
			return cli_bad(a, "list too long");
		if (o->proto[0])
			strcat(o->proto, ",");
		strcat(o->proto, cli_proto_names[i]);
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
enum cli_status
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
enum cli_status
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
enum cli_status
opt_user_agent(struct opts *o, struct cli_arg *a)
{
	if (strpbrk(a->val, "\r\n") != NULL)
		return cli_bad(a, "line breaks are not allowed");
	o->user_agent = a->val;
	return CLI_RUN;
}

/* --cacert: said now rather than as a TLS error on every record. */
enum cli_status
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
enum cli_status
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
enum cli_status
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
enum cli_status
opt_user(struct opts *o, struct cli_arg *a)
{
	if (strchr(a->val, ':') == NULL)
		return cli_bad(a, "expected USER:PASSWORD (gather does not "
		    "prompt for a password)");
	o->user = a->val;
	return CLI_RUN;
}

/* --oauth2-bearer: a line break would end the Authorization header. */
enum cli_status
opt_bearer(struct opts *o, struct cli_arg *a)
{
	if (strpbrk(a->val, "\r\n") != NULL)
		return cli_bad(a, "line breaks are not allowed");
	o->bearer = a->val;
	return CLI_RUN;
}

/* --netrc-file: implies --netrc, as in curl. */
enum cli_status
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
enum cli_status
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
enum cli_status
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
enum cli_status
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
enum cli_status
opt_key(struct opts *o, struct cli_arg *a)
{
	o->key = a->val;
	return cli_readable(a, a->val);
}

/* --rate: starts per second, whatever unit was given. */
enum cli_status
opt_rate(struct opts *o, struct cli_arg *a)
{
	if (parse_rate(a->val, &o->rate) == -1)
		return cli_bad(a, "expected starts per unit such as 10, 10/s, "
		    "600/m or 5000/h, not '%s'", a->val);
	return CLI_RUN;
}

/* --per-host-rate: starts per second for each host, as --rate. */
enum cli_status
opt_per_host_rate(struct opts *o, struct cli_arg *a)
{
	if (parse_rate(a->val, &o->per_host_rate) == -1)
		return cli_bad(a, "expected starts per unit such as 10, 10/s, "
		    "600/m or 5000/h, not '%s'", a->val);
	return CLI_RUN;
}

/* --shard: K and N land in two fields. */
enum cli_status
opt_shard(struct opts *o, struct cli_arg *a)
{
	if (parse_shard(a->val, &o->shard_k, &o->shard_n) == -1)
		return cli_bad(a, "expected K/N with 0 <= K < N, not '%s'",
		    a->val);
	return CLI_RUN;
}

/* --hash: names from cli_hash_names separated by commas, each a bit. */
enum cli_status
opt_hash(struct opts *o, struct cli_arg *a)
{
	const char	*p = a->val;
	size_t		 len, i;

	o->hashes = 0;
	while (*p) {
		len = strcspn(p, ",");
		for (i = 0; cli_hash_names[i] != NULL; i++)
			if (strlen(cli_hash_names[i]) == len &&
			    strncasecmp(cli_hash_names[i], p, len) == 0)
				break;
		if (cli_hash_names[i] == NULL)
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
enum cli_status
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
enum cli_status
opt_location_trusted(struct opts *o, struct cli_arg *a)
{
	(void)a;
	o->follow = o->location_trusted = 1;
	return CLI_RUN;
}

/* -h: print and stop; main checks that stdout took it. */
enum cli_status
opt_help(struct opts *o, struct cli_arg *a)
{
	(void)o;
	(void)a;
	cli_help();
	return CLI_EXIT_OK;
}

/* -V: print and stop, as -h. */
enum cli_status
opt_version(struct opts *o, struct cli_arg *a)
{
	(void)o;
	(void)a;
	cli_version();
	return CLI_EXIT_OK;
}

