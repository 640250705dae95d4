/*
 * reindex.h - rebuild the index from the WARC segments alone: the
 * archive is the truth, the index is derived data.
 */
#ifndef SUNARCHIVE_REINDEX_H
#define SUNARCHIVE_REINDEX_H

#include <stddef.h>
#include <stdint.h>

struct reindex_result {
	int		 segments;
	uint64_t	 records;
	uint64_t	 bad_bytes;	/* bytes that are not whole records */
	char		 bad_file[256];	/* the first such file ... */
	uint64_t	 bad_offset;	/* ... and offset */
};

/*
 * Build a new index at out_path (which must not exist) from every segment
 * in state_dir/archive, in segment order. Records that cannot be read are
 * counted in bad_bytes, not indexed. 0 or a negative errno with a
 * message in err.
 */
int	reindex_run(const char *state_dir, const char *out_path,
	    struct reindex_result *ret, char *err, size_t errlen);

#endif
