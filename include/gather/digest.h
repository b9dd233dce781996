/*
 * digest: the --hash algorithms, named once.  Slot i of a record's hashes
 * is bit 1 << i of --hash (HASH_SHA256, HASH_SHA1, HASH_MD5); the record's
 * keys are these names.
 */
#ifndef GATHER_DIGEST_H
#define GATHER_DIGEST_H

/* Room for every --hash algorithm's digest (sha256, sha1, md5). */
#define HASH_SLOTS	3

extern const char *const digest_names[HASH_SLOTS + 1];

#endif
