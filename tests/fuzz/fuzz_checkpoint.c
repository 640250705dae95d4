/*
 * fuzz_checkpoint.c - the signed-note and checkpoint parser, and the
 * verifier key parser, on arbitrary bytes: what `sunarchive check` and
 * an outside verifier read from an archive they do not trust.
 *
 * A key is generated once (checkpoint_keygen() in a temporary directory)
 * and each input is used three ways:
 *  1. as a signed note, parsed against that key's verifier;
 *  2. as the text of a note, signed with that key and opened again,
 *     which must succeed; and if it parses as a checkpoint, signing that
 *     checkpoint must give back the very same note: the parser accepts
 *     exactly one spelling of each field (checkpoint.c's promise), and
 *     Ed25519 signatures are deterministic;
 *  3. as verifier key text (up to its first NUL) for
 *     checkpoint_verifier_load(), which also treats it as a file name.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "checkpoint.h"

#include "fuzz.h"

#define KEY_NAME	"fuzz-key"

static struct checkpoint_key *key;
static struct checkpoint_verifier *verifier;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/sunarchive-fuzz-XXXXXX";
	char path[PATH_MAX], pub[PATH_MAX], err[512];

	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/key", dir);
	snprintf(pub, sizeof(pub), "%s/key%s", dir, CHECKPOINT_PUB_SUFFIX);
	FUZZ_CHECK(checkpoint_keygen(path, KEY_NAME) == 0);
	if (checkpoint_key_load(path, KEY_NAME, &key, err, sizeof(err)) < 0 ||
	    checkpoint_verifier_load(pub, &verifier, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_checkpoint: %s\n", err);
		abort();
	}
	unlink(path);
	unlink(pub);
	rmdir(dir);
	return 0;
}

/* 1. Somebody's note. */
static void
parse_foreign(const char *text, size_t len)
{
	struct checkpoint cp, cp2;
	size_t textlen = SIZE_MAX;
	char *again;
	int r, ro;

	r = checkpoint_parse_note(text, len, verifier, &cp);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPERM);
	ro = checkpoint_note_open(text, len, verifier, &textlen);
	FUZZ_CHECK(ro == 0 || ro == -EBADMSG || ro == -EPERM);
	if (ro == 0)
		FUZZ_CHECK(textlen < len);
	/* The checkpoint parser is the note parser plus the body. */
	if (r == 0)
		FUZZ_CHECK(ro == 0);
	if (ro == -EBADMSG)
		FUZZ_CHECK(r == -EBADMSG);
	if (r != 0)
		return;
	FUZZ_CHECK(checkpoint_name_valid(cp.origin));
	FUZZ_CHECK(checkpoint_format_note(&cp, key, &again) == 0);
	FUZZ_CHECK(checkpoint_parse_note(again, strlen(again), verifier,
	    &cp2) == 0);
	FUZZ_CHECK(memcmp(&cp, &cp2, sizeof(cp)) == 0);
	free(again);
}

/* 2. Our signature over the input. */
static void
sign_and_parse(const char *text, size_t len)
{
	struct checkpoint cp;
	size_t textlen = SIZE_MAX;
	char *note, *again;
	int r;

	r = checkpoint_note_sign(key, text, len, &note);
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL);
		return;
	}
	FUZZ_CHECK(checkpoint_note_open(note, strlen(note), verifier,
	    &textlen) == 0);
	FUZZ_CHECK(textlen == len);
	r = checkpoint_parse_note(note, strlen(note), verifier, &cp);
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	if (r == 0) {
		FUZZ_CHECK(checkpoint_format_note(&cp, key, &again) == 0);
		FUZZ_CHECK(strcmp(again, note) == 0);
		free(again);
	}
	free(note);
}

/* 3. Verifier key text (or a file name). */
static void
load_verifier(const char *text, size_t len)
{
	struct checkpoint_verifier *v = NULL;
	char *s, err[256];
	int r;

	s = strndup(text, len);
	FUZZ_CHECK(s != NULL);
	err[0] = '\0';
	r = checkpoint_verifier_load(s, &v, err, sizeof(err));
	if (r == 0)
		FUZZ_CHECK(v != NULL);
	else
		FUZZ_CHECK(v == NULL && r < 0 && err[0] != '\0');
	checkpoint_verifier_free(v);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	parse_foreign(text, size);
	sign_and_parse(text, size);
	load_verifier(text, size);
	return 0;
}
