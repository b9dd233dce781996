/*
 * digest: the --hash digests of a body and the "sha256" checksum of a
 * request object.  Bytes are fed as they arrive; a continued NAME.part's
 * bytes are fed first, so that the hash is the whole file's.  The
 * algorithms' names live here once, for the option parser and the record.
 */
#include "gather/digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "xfer_int.h"

/* The algorithms' names, by slot: the record's keys, --hash's words. */
const char *const digest_names[HASH_SLOTS + 1] = {
	"sha256", "sha1", "md5", NULL
};

/* The digest of --hash bit i. */
static const EVP_MD *
digest_md(int i)
{
	return i == 0 ? EVP_sha256() : i == 1 ? EVP_sha1() : EVP_md5();
}

/* Start the digests of x->mds over; -1 when out of memory. */
int
digest_init(struct xfer *x)
{
	int i;

	for (i = 0; i < HASH_SLOTS; i++) {
		if (!(x->mds & (1u << i)))
			continue;
		if (x->md[i] == NULL && (x->md[i] = EVP_MD_CTX_new()) == NULL)
			return -1;
		if (!EVP_DigestInit_ex(x->md[i], digest_md(i), NULL))
			return -1;
	}
	return 0;
}

/* Feed body bytes to the digests. */
void
digest_feed(struct xfer *x, const char *data, size_t n)
{
	int i;

	for (i = 0; i < HASH_SLOTS; i++)
		if (x->mds & (1u << i))
			EVP_DigestUpdate(x->md[i], data, n);
}

/*
 * Hash what NAME.part already holds, so that a continued file's hash is
 * the whole file's.  A local read, as the open before it.
 */
int
digest_part(struct xfer *x)
{
	char		chunk[65536];
	uint64_t	off = 0;
	ssize_t		n;

	while (off < x->part.have) {
		n = pread(x->part.fd, chunk, x->part.have - off < sizeof(chunk) ?
		    (size_t)(x->part.have - off) : sizeof(chunk), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		digest_feed(x, chunk, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * The digests into r->res.hash as lower hex; a checksum is checked, but not
 * against an error status's body: that record is http (sched_done).  The
 * record's room for them is made at its first digest and kept.
 */
void
digest_finish(struct xfer *x, struct rec *r)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len, j;
	int		i;

	if (r->res.hash == NULL &&
	    (r->res.hash = calloc(HASH_SLOTS, sizeof(*r->res.hash))) == NULL) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return;
	}
	for (i = 0; i < HASH_SLOTS; i++) {
		r->res.hash[i][0] = '\0';
		if (!(x->mds & (1u << i)) || !EVP_DigestFinal_ex(x->md[i], md,
		    &len))
			continue;
		for (j = 0; j < len && j * 2 + 2 < sizeof(r->res.hash[i]); j++)
			snprintf(r->res.hash[i] + j * 2, 3, "%02x", md[j]);
	}
	if (r->req.sha256[0] && r->res.status < 400 &&
	    strcmp(r->req.sha256, r->res.hash[0]) != 0)
		rec_fail(r, ERR_CHECKSUM, "sha256 is %s, not %s",
		    r->res.hash[0], r->req.sha256);
}
