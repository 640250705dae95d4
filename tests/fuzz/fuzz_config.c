/*
 * fuzz_config.c - the configuration parser on arbitrary files:
 * config_load() with CONFIG_SKIP_SECRETS (as `sunarchived -n` and the
 * CLI read it; no token files are opened) on the input written to an
 * in-memory file.
 *
 * A file it accepts must give a consistent struct config (every account
 * named, unique and found by config_account(), the required keys set,
 * no secrets loaded); a file it refuses must give a message naming the
 * file.
 */
#include <errno.h>
#include <string.h>

#include "config.h"

#include "fuzz.h"

static int	conf_fd = -1;
static char	conf_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	conf_fd = fuzz_memfd("fuzz-config", conf_path, sizeof(conf_path));
	return 0;
}

static void
check_config(const struct config *cfg)
{
	const struct account_conf *a;
	size_t i;

	FUZZ_CHECK(cfg->state_dir != NULL && cfg->log_level != NULL);
	FUZZ_CHECK(cfg->naccounts <= CONFIG_MAX_ACCOUNTS);
	FUZZ_CHECK(cfg->naccounts == 0 || cfg->accounts != NULL);
	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		FUZZ_CHECK(a->name != NULL && a->id != NULL &&
		    a->api_base != NULL);
		FUZZ_CHECK(a->platform == PLATFORM_FACEBOOK ||
		    a->platform == PLATFORM_MASTODON);
		FUZZ_CHECK(config_account(cfg, a->name) == a);
		FUZZ_CHECK(a->token == NULL && a->app_secret == NULL);
		FUZZ_CHECK(strcmp(config_platform_name(a->platform), "") != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];
	int r;

	fuzz_memfd_set(conf_fd, data, size);
	memset(&cfg, 0, sizeof(cfg));
	r = config_load(conf_path, CONFIG_SKIP_SECRETS, &cfg, err,
	    sizeof(err));
	if (r == 0) {
		check_config(&cfg);
		config_release(&cfg);
	} else {
		FUZZ_CHECK(r < 0);
		FUZZ_CHECK(strncmp(err, conf_path, strlen(conf_path)) == 0);
	}
	return 0;
}
