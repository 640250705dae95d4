/*
 * fuzz_warc.c - the WARC record parser and the record mapping that crash
 * recovery and `reindex` rebuild the index from: warc_parse() and
 * record_from_warc() on arbitrary bytes.
 *
 * Beyond "no crash": what the parser returns must lie inside the input,
 * and a record it maps must survive the trip back through
 * record_to_warc() unchanged (record.c says the mapping is the inverse
 * of the writer's), whenever the writer can express it at all (no CR or
 * LF in a value, record ids that fit).
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "record.h"
#include "warc.h"

#include "fuzz.h"

static void
same_str(const char *a, const char *b)
{
	FUZZ_CHECK((a == NULL) == (b == NULL));
	FUZZ_CHECK(a == NULL || strcmp(a, b) == 0);
}

/* Could record_to_warc() write m as it is? */
static int
expressible(const struct rec_meta *m)
{
	return (m->refers_to == NULL ||
	    strlen(m->refers_to) < RECORD_ID_LEN) &&
	    (m->concurrent_to == NULL ||
	    strlen(m->concurrent_to) < RECORD_ID_LEN);
}

/* Write m back, parse it again, compare. */
static void
round_trip(const struct warc_parsed *p, const struct rec_meta *m)
{
	struct warc_parsed p2;
	struct rec_meta m2;
	json_t *owned2 = NULL;
	struct buf out;
	int r;

	buf_init(&out, 0);
	r = record_to_warc(m, warc_get(p, "Content-Type"), p->block,
	    p->block_len, -1, &out);
	if (r == -EINVAL)
		goto out;	/* a value with CR or LF: not writable */
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(warc_parse(out.data, out.len, &p2) == 0);
	FUZZ_CHECK(p2.total_len == out.len);
	FUZZ_CHECK(record_from_warc(&p2, &m2, &owned2) == 0);
	FUZZ_CHECK(m2.kind == m->kind);
	FUZZ_CHECK(strcmp(m2.record_id, m->record_id) == 0);
	FUZZ_CHECK(m2.date == m->date);
	same_str(m2.target_uri, m->target_uri);
	same_str(m2.refers_to, m->refers_to);
	same_str(m2.concurrent_to, m->concurrent_to);
	same_str(m2.account, m->account);
	same_str(m2.platform, m->platform);
	same_str(m2.item_id, m->item_id);
	same_str(m2.item_kind, m->item_kind);
	same_str(m2.parent_id, m->parent_id);
	same_str(m2.root_id, m->root_id);
	same_str(m2.url, m->url);
	same_str(m2.edit_marker, m->edit_marker);
	same_str(m2.event, m->event);
	same_str(m2.media_key, m->media_key);
	same_str(m2.text, m->text);
	same_str(m2.author, m->author);
	same_str(m2.author_id, m->author_id);
	FUZZ_CHECK(m2.created == m->created);
	FUZZ_CHECK(m2.platform_time == m->platform_time);
	FUZZ_CHECK(strcmp(m2.content_hash, m->content_hash) == 0);
	/* Only a version carries the hidden flag. */
	if (m->kind == REC_VERSION)
		FUZZ_CHECK(m2.hidden == m->hidden);
	json_decref(owned2);
	warc_parsed_release(&p2);
out:
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct warc_parsed p;
	struct rec_meta m;
	json_t *owned = NULL;
	size_t i;
	int r;

	memset(&p, 0, sizeof(p));
	r = warc_parse(in, size, &p);
	if (r < 0) {
		FUZZ_CHECK(r == -ENODATA || r == -EBADMSG);
		return 0;
	}
	FUZZ_CHECK(p.total_len <= size);
	FUZZ_CHECK(p.block >= in && p.block_len <= size &&
	    (size_t)(p.block - in) + p.block_len <= p.total_len);
	FUZZ_CHECK(p.nfields <= sizeof(p.fields) / sizeof(p.fields[0]));
	for (i = 0; i < p.nfields; i++)
		FUZZ_CHECK(strlen(p.fields[i].name) + strlen(p.fields[i].value)
		    < p.total_len);

	r = record_from_warc(&p, &m, &owned);
	if (r == 0) {
		FUZZ_CHECK(m.kind >= REC_WARCINFO && m.kind <= REC_EVENT);
		FUZZ_CHECK(strlen(m.record_id) < RECORD_ID_LEN);
		FUZZ_CHECK(owned == NULL || json_is_object(owned));
		if (expressible(&m))
			round_trip(&p, &m);
		json_decref(owned);
	} else {
		FUZZ_CHECK(r == -EBADMSG);
	}
	warc_parsed_release(&p);
	return 0;
}
