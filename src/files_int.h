/*
 * files_int: what the -o files' own sources share and nothing else sees.
 * The module is split by concern: files_name.c turns the --name template
 * into a safe name, files_set.c remembers the names this run gave out,
 * files_part.c runs NAME.part's lifecycle and the URL marks that say
 * whose a file is, and files.c walks a name's suffixes to choose one.
 * struct files is defined here so that only these files know it.
 */
#ifndef GATHER_FILES_INT_H
#define GATHER_FILES_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "gather/buf.h"
#include "gather/files.h"
#include "gather/htab.h"

/* Room is left after this for a ".N" suffix within NAME_MAX. */
#define NAME_LEN	200
/* Names the table remembers exactly: at most about 4 MiB with NAME_LEN. */
#define TABLE_MAX	16384
/* Next suffixes kept by hash once the table has been emptied. */
#define FLOOR_LEN	4096
/* {path}: directories deeper than this are joined into one name. */
#define PATH_DEPTH	32

/* What the table keeps of a name (the htab has the name). */
struct name {
	uint64_t	 next;		/* below it, every suffix of s is taken */
	int		 used;		/* s itself was given to a record */
	int		 known;		/* s is another URL's in DIR */
};

/* Whose a file is. */
enum owner {
	OWN_ABSENT,			/* not there */
	OWN_US,				/* marked with this record's URL */
	OWN_OTHER,			/* marked with another URL */
	OWN_NOBODY			/* no mark, or not a regular file */
};

struct files {
	int		 dirfd;
	const char	*dir;		/* as given */
	const char	*tmpl;
	int		 unique;	/* the template is {index} */
	int		 forgot;	/* the table was emptied at least once */
	CURLU		*cu;
	struct htab	*set;		/* name -> struct name */
	uint64_t	 floor[FLOOR_LEN];
	struct buf	 name;
	struct buf	 seg, out;	/* {path}: one segment, the whole */
	size_t		 seps[PATH_DEPTH];	/* {path}'s '/' in name */
	size_t		 nseps;
	size_t		 prefix;	/* bytes of "DIR/" in a record's file */
	int		 cont;		/* --continue */
	struct buf	 mark;		/* this record's URL mark */
	struct buf	 seen;		/* the other URL's mark files_owner read */
	struct buf	 key;		/* "\1MARK\1NAME": where MARK's NAME is */
};

/* files.c */
int		 files_subdir(struct files *, const struct rec *,
		    const char **, char *, size_t);

/* files_name.c */
int		 files_name_expand(struct files *, const struct rec *);
int		 files_name_file(struct files *, struct rec *);
int		 files_name_is_part(const char *, size_t);
int		 files_name_suffix(struct files *, size_t, uint64_t);

/* files_set.c */
int		 files_set_taken(const struct files *, int);
int		 files_set_known(struct files *, size_t, uint64_t);
int64_t		 files_set_known_at(struct files *, size_t);
int		 files_set_take(struct files *, size_t, uint64_t, uint64_t,
		    uint64_t);

/* files_part.c */
int		 files_part_mark_of(struct files *, const struct rec *);
enum owner	 files_part_claim(struct files *, int, const char *,
		    enum owner *);
int		 files_part_create(struct files *, struct rec *, struct part *,
		    char *, size_t);

#endif
