/*
 * spool.h - events from the sunarchive tool (fixity checks, later clerk
 * actions) reach the archive through a spool directory: the tool writes
 * STATE_DIR/spool/UUID.json atomically; sunarchived, the archive's only
 * writer, turns each into a metadata record with record id urn:uuid:UUID
 * (so ingesting twice after a crash is harmless) and then removes it.
 */
#ifndef SUNARCHIVE_SPOOL_H
#define SUNARCHIVE_SPOOL_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"

#define SPOOL_DIR	"spool"
#define SPOOL_MAX	(64 * 1024)	/* bytes per event */

/*
 * Queue an event (a JSON object with at least "event": "name"; optional
 * "account", "item"). Adds "time" if missing. Writes the record id it
 * will get to ret_id (>= 48 bytes) when not NULL. 0 or -errno.
 */
int	spool_write(const char *state_dir, json_t *event, char *ret_id,
	    size_t idlen);

struct spool_result {
	int	ingested;
	int	rejected;	/* malformed files moved to quarantine/ */
};

/*
 * Archive every queued event in name order, one batch each, and remove
 * the spool files that are safely archived. 0 or the storage error.
 */
int	spool_ingest(struct store *st, struct spool_result *ret);

#endif
