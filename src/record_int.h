/*
 * record_int: what the formatter's two files share and nothing else sees.
 * record.c holds the formatter's state (its reused cJSON tree and
 * scratch buffers), prints the tree as one line and falls back to a cut
 * record when a line cannot be made; field.c sets each field's node from
 * a record.  struct record is defined here so that only these two know it.
 */
#ifndef GATHER_RECORD_INT_H
#define GATHER_RECORD_INT_H

#include <limits.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "gather/record.h"

/* Scratch buffers past this are given back after a record too large. */
#define RECORD_KEEP	(256 * 1024)

/*
 * The longest line a record may take, far beyond any --max-body; the
 * lengths record_print sums stay far below SIZE_MAX.  A build may set a
 * smaller one (-DRECORD_LINE_MAX=N) to reach the too-large path.
 */
#ifndef RECORD_LINE_MAX
#define RECORD_LINE_MAX	((size_t)INT_MAX - 1)
#endif

/* What a string helper says besides 0: no memory, or over RECORD_LINE_MAX. */
#define RECORD_NOMEM	(-1)
#define RECORD_TOOBIG	(-2)

/* Room for one formatted number. */
#define NUM_LEN		32

/* Leaf nodes point at our strings: never let cJSON free them. */
#define LEAF_FLAGS	(cJSON_IsReference | cJSON_StringIsConst)

enum field {
	FLD_INDEX,
	FLD_URL,
	FLD_ID,
	FLD_OK,
	FLD_STATUS,
	FLD_NOT_MODIFIED,
	FLD_HTTP_VERSION,
	FLD_EFFECTIVE_URL,
	FLD_REDIRECTS,
	FLD_CONTENT_TYPE,
	FLD_ETAG,
	FLD_LAST_MODIFIED,
	FLD_SIZE,
	FLD_BODY,
	FLD_BODY_ENCODING,
	FLD_HEADERS,
	FLD_FILE,
	FLD_HASH,
	FLD_REMOTE_IP,
	FLD_REMOTE_PORT,
	FLD_CONNECTION_REUSED,
	FLD_TIME,
	FLD_ATTEMPTS,
	FLD_ERROR,
	FLD_COUNT
};

enum { T_QUEUE, T_DNS, T_CONNECT, T_TLS, T_TTFB, T_TOTAL, T_COUNT };
enum { E_KIND, E_MESSAGE, E_CURL_CODE, E_COUNT };

/*
 * A record too large for a line (or for memory) is written again as an
 * error record of kind other saying why: without body, headers and file,
 * then smaller still, its url cut, without id, effective_url and
 * content_type.  The record itself is read as it is, never copied.
 */
enum record_cut {
	CUT_NONE,
	CUT_ERROR,
	CUT_SMALL
};

/* The url of a CUT_SMALL record is cut to this many bytes. */
#define CUT_URL_LEN	256

struct record {
	struct reorder	*reorder;	/* where lines go, or NULL */
	enum body_mode	 body_mode;
	int		 include_headers;
	int		 to_files;
	unsigned	 hashes;	/* --hash: HASH_* bits */
	struct buf	 line;		/* the line being handed on */
	enum record_cut	 cut;		/* what the line being made leaves out */
	const char	*why;		/* past CUT_NONE: why it is cut */
	const char	*replaced;	/* why the last record formatted went
					   out as an error record, or NULL */

	cJSON		*root;
	cJSON		*f[FLD_COUNT];
	cJSON		*t[T_COUNT];
	cJSON		*e[E_COUNT];
	cJSON		*error_obj;
	cJSON		*error_null;

	/* Escaped strings, reused from record to record. */
	struct buf	 s_url, s_eff, s_ctype, s_body, s_msg, s_kind, s_file;
	struct buf	 s_etag, s_lm, s_ip, s_hash;
	struct buf	 s_hdr;		/* -I: the headers object */
	struct buf	 hent, htab;	/* -I: grouping repeated names */
	struct buf	 repair;
	char		 num[FLD_COUNT + T_COUNT + E_COUNT][NUM_LEN];
};

/* record.c */
void		 record_link(cJSON *, cJSON **, int, unsigned);

/* field.c: each 0 or RECORD_NOMEM or RECORD_TOOBIG, but field_times */
int		 field_result(struct record *, const struct rec *);
int		 field_revalidation(struct record *, const struct rec *);
int		 field_extras(struct record *, const struct rec *, unsigned *);
void		 field_times(struct record *, const struct rec *);
int		 field_error(struct record *, const struct rec *);

#endif
