/*
 * cli: the option table, parsing and validation of the command line, and
 * the help and version texts and the completions' input, all made from
 * that table.  Parsing never fetches and never exits: it returns a status
 * and a one-line reason for main to print.
 */
#ifndef GATHER_CLI_H
#define GATHER_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "gather/buf.h"
#include "gather/policy.h"
#include "gather/text.h"

#define GATHER_VERSION	"0.3.0"

enum body_mode {
	BODY_AUTO,
	BODY_TEXT,
	BODY_BASE64,
	BODY_JSON,
	BODY_NONE
};

enum format {
	FORMAT_JSONL,
	FORMAT_JSON,
	FORMAT_TAP
};

enum http_version {
	HTTPV_DEFAULT,		/* HTTP/2 over TLS where offered, else 1.1 */
	HTTPV_1_1,
	HTTPV_2_PRIOR		/* h2c without upgrade */
};

struct netrc;

/*
 * Everything the command line decides; read-only once parsing is done.
 * The option table in cli.c stores into these fields by offset, an int
 * for flags and enums, a long for counts, a double for seconds.
 */
struct opts {
	/* Scheduling */
	long		 concurrency;
	long		 window;	/* reorder window, in records */
	double		 timeout;	/* seconds per attempt, 0 = none */
	uint64_t	 speed_limit;	/* bytes per second, 0 = none */
	long		 speed_time;	/* seconds below it; -1 until settled */
	double		 connect_timeout;
	double		 deadline;	/* seconds for the run, 0 = none */
	long		 retries;
	struct retry_set retry_on;	/* what is retried */
	int		 retry_all;	/* --retry-all-errors */
	double		 retry_delay;
	double		 retry_max_delay;
	int		 fail;	/* -1 until settled: on under -o */
	int		 fail_fast;
	int		 unordered;
	double		 rate;		/* starts per second, 0 = no limit */
	long		 per_host;	/* 0 = no limit */
	double		 per_host_rate;	/* starts per second per host, 0 = none */
	int		 adaptive;	/* --adaptive: AIMD per host */
	long		 shard_k, shard_n;	/* shard_n 0 = no sharding */
	const char	*resume;	/* the last --resume FILE, or NULL */
	char	       **resumes;	/* each --resume FILE, in order */
	size_t		 nresumes;
	const char	*revalidate;	/* the last --revalidate FILE, or NULL */
	char	       **revalidates;	/* each --revalidate FILE, in order */
	size_t		 nrevalidates;

	/* Requests */
	const char	*method;	/* NULL: GET, or POST with data */
	char	       **headers;	/* "K: V", in order */
	size_t		 nheaders;
	struct buf	 data;		/* -d joined with &, --json as is */
	int		 has_data;
	int		 json;		/* --json: its two headers */
	const char	*user_agent;
	int		 follow;
	int		 location_trusted; /* -H headers to other origins */
	long		 max_redirs;
	char		 proto[256];	/* libcurl's protocol list */
	int		 compressed;
	int		 insecure;
	const char	*cacert;
	const char	*proxy;
	enum http_version http;

	/* Identity and routing */
	char	       **resolve;	/* "HOST:PORT:ADDR[,ADDR]", libcurl's */
	size_t		 nresolve;
	char	       **connect_to;	/* "H1:P1:H2:P2", libcurl's */
	size_t		 nconnect_to;
	int		 ip_version;	/* 0 either, 4 or 6 */
	const char	*unix_socket;
	const char	*user;		/* "USER:PASSWORD", basic */
	const char	*bearer;
	int		 netrc;
	const char	*netrc_file;
	struct netrc	*netrc_tab;	/* --netrc's entries, read; owned */
	char	       **cookie_data;	/* -b values holding '=' */
	size_t		 ncookie_data;
	char	       **cookie_files;	/* -b values without '=' */
	size_t		 ncookie_files;
	const char	*cookie_jar;
	char		*cert;		/* -E FILE, unescaped; owned */
	char		*cert_pass;	/* -E's :PASSWORD, or NULL; owned */
	const char	*key;

	/* Output */
	enum format	 format;
	enum body_mode	 body;
	uint64_t	 max_body;	/* 0 = no limit */
	int		 include_headers;
	const char	*output_dir;
	const char	*name_template;
	int		 cont;		/* --continue: a .part goes on */
	unsigned	 hashes;	/* --hash: HASH_* bits */

	/* Tests and CI */
	char	       **expects;	/* --expect EXPR each, in order */
	size_t		 nexpects;
	const char	*junit;		/* --junit FILE, or NULL */

	/* Input and messages */
	char	       **inputs;	/* -i FILE each, "-" = stdin, in order */
	size_t		 ninputs;
	char	       **urls;		/* URL arguments, in order */
	size_t		 nurls;
	int		 quiet;
	int		 verbose;
	int		 progress;	/* 1 on, 0 off, -1 when stderr is a tty */
	int		 stats;		/* 0 none, else STATS_TEXT or STATS_JSON */
	int		 merge;		/* --merge: the arguments are outputs */
	long		 jobs;		/* -j: worker processes, 0 = one a CPU */

	/* Bit i: row i of cli.c's option table (or an alias of it) given. */
	uint64_t	 given[4];
};

/* --hash algorithms, in the order the hash object lists them. */
#define HASH_SHA256	0x1
#define HASH_SHA1	0x2
#define HASH_MD5	0x4
#define HASH_COUNT	3

#define STATS_TEXT	1
#define STATS_JSON	2

enum cli_status {
	CLI_RUN,	/* go on and fetch */
	CLI_EXIT_OK,	/* --help or --version was printed */
	CLI_USAGE	/* bad command line; reason in err */
};

enum cli_status	 cli_parse(struct opts *, int, char **, char *, size_t);
void		 cli_free(struct opts *);
void		 cli_help(void);
void		 cli_version(void);

#endif
