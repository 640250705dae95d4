/*
 * anchor.h - tie the archive's history to something outside it: after a
 * cycle that archived records, a checkpoint (ledger size, Merkle root,
 * time) signed with the configured Ed25519 key is written into the
 * archive as a metadata record; with a TSA configured, an RFC 3161 token
 * over the signed checkpoint is obtained and archived too.
 */
#ifndef SUNARCHIVE_ANCHOR_H
#define SUNARCHIVE_ANCHOR_H

#include <stdint.h>

#include "checkpoint.h"
#include "config.h"
#include "ledger.h"
#include "store.h"

#define ANCHOR_PUB_FILE	"ledger.pub"	/* verifier key, in state_dir */

struct anchor {
	struct ledger		 ledger;
	struct checkpoint_key	*key;		/* NULL: unsigned */
	char			*name;		/* signer name */
	char			*origin;
	int64_t			 last_size;	/* newest checkpoint's size */
	int64_t			 own_size;	/* ledger size after our own
						   checkpoint/timestamp records */
	int64_t			 last_tsa;	/* when we last got a token */
	int			 tsa_failures;
};

/*
 * Load the signing key (if configured), publish its verifier key as
 * state_dir/ledger.pub, and bring the ledger up to date. 0 or -errno
 * with a message in err.
 */
int	anchor_init(struct anchor *an, const struct config *cfg,
	    struct store *st, char *err, size_t errlen);
/*
 * Write a checkpoint if records were archived since the last one; then
 * a timestamp token when one is due. 0, or the storage error. A TSA
 * failure is logged and retried later; it is not a storage error.
 */
int	anchor_checkpoint(struct anchor *an, const struct config *cfg,
	    struct store *st);
void	anchor_release(struct anchor *an);

/* The checkpoint body (no signature): "origin\nsize\nroot\ntime T\n". */
char	*anchor_body(const char *origin, uint64_t size, const uint8_t *root,
	    int64_t t);

#endif
