/*
 * fuzz_redact.c - secret redaction (record_redact()), the last thing
 * between a token and the archive, on arbitrary bytes: request heads,
 * response bodies, URLs.
 *
 * Three fixed secrets of the shapes sunarchived holds (a Facebook Page
 * token, an app secret, a Mastodon token) are redacted from the input;
 * none may be left in the output, and the count must be zero exactly
 * when nothing changed.
 */
#include <string.h>

#include "buf.h"
#include "record.h"

#include "fuzz.h"

static const char *const secrets[] = {
	"EAAGm0PX4ZCpsBAfuzzPageToken7xQ2ZDZD",
	"3f9c1e07b2d44e8f9a6c5b4d3e2f1a0b",
	"Zq3xT9vLmN4pR8sK2wY6uH1jF5cB0dGe7aXoEiUtQhM",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	size_t i, count;

	buf_init(&b, 0);
	FUZZ_CHECK(buf_append(&b, data, size) == 0);
	count = record_redact(&b, secrets,
	    sizeof(secrets) / sizeof(secrets[0]));
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		FUZZ_CHECK(b.len == 0 || memmem(b.data, b.len, secrets[i],
		    strlen(secrets[i])) == NULL);
	if (count == 0)
		FUZZ_CHECK(b.len == size && (size == 0 ||
		    memcmp(b.data, data, size) == 0));
	else
		FUZZ_CHECK(b.len != size || memcmp(b.data, data, size) != 0);
	FUZZ_CHECK(b.data == NULL || b.data[b.len] == '\0');
	buf_release(&b);
	return 0;
}
