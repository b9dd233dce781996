/*
 * digest: the --hash algorithms, named once.  Slot i of a record's hashes
 * is bit 1 << i of --hash (HASH_SHA256, HASH_SHA1, HASH_MD5); the option
 * parser and the record's field names both read the names from here.
 */
#ifndef GATHER_DIGEST_H
#define GATHER_DIGEST_H

#include "gather/rec.h"

extern const char *const digest_names[HASH_SLOTS + 1];

const char	*digest_name(int);
int		 digest_slot(const char *);

#endif
