/*
 * main.c - sunarchived: options, configuration, then the main loop.
 *
 * sunarchived always runs in the foreground (systemd's Type=notify); it
 * never forks. -d is for a person at a terminal: debug logging without
 * journald priority prefixes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "sysio.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: sunarchived [-dn] [-f FILE]\n"
	    "\n"
	    "Archive a city's official social media accounts as public\n"
	    "records: every post, comment and reply, every version, in WARC\n"
	    "files indexed in SQLite. Runs in the foreground (systemd\n"
	    "Type=notify); SIGHUP reloads the configuration, SIGTERM stops\n"
	    "after the current batch.\n"
	    "\n"
	    "  -f FILE   configuration file (default %s)\n"
	    "  -n        check the configuration and token files, then exit:\n"
	    "            0 if valid, 1 with FILE:LINE: message if not\n"
	    "  -d        debug: log everything, without journald prefixes\n"
	    "  -h        show this help\n"
	    "  -V        show the version\n", CONFIG_DEFAULT_PATH);
}

int
main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	struct config cfg;
	char err[1024];
	int ch, check = 0, debug = 0;

	while ((ch = getopt(argc, argv, "df:hnV")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("sunarchived %s\n", SUNARCHIVE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("sunarchived", !debug && !check);
	if (sysio_init() < 0) {
		log_err("invalid SUNARCHIVE_TEST_FAULTS specification");
		return 2;
	}
	/* Secrets are in memory: no core dumps, no ptrace by others. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(0027);
	if (config_load(path, 0, &cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	if (check && cfg.signing_key_file != NULL) {
		struct checkpoint_key *key = NULL;
		char name[CHECKPOINT_NAME_MAX];

		if (cfg.signing_key_name != NULL)
			snprintf(name, sizeof(name), "%s",
			    cfg.signing_key_name);
		else
			checkpoint_default_name(name, sizeof(name));
		if (checkpoint_key_load(cfg.signing_key_file, name, &key, err,
		    sizeof(err)) < 0) {
			log_err("%s: %s", path, err);
			config_release(&cfg);
			return 1;
		}
		checkpoint_key_free(key);
	}
	if (check) {
		printf("%s: configuration OK (%zu account(s))\n", path,
		    cfg.naccounts);
		config_release(&cfg);
		return 0;
	}
	if (debug)
		log_set_level(LOG_PRI_DEBUG);
	else if (log_set_level_name(cfg.log_level) < 0)
		log_warnx("unknown log_level '%s'; using info", cfg.log_level);
	return loop_run(path, &cfg);
}
