/*
 * keygen.c - "sunarchive keygen --out FILE": make the Ed25519 key the
 * daemon signs its ledger checkpoints with. The private key goes to FILE
 * (mode 0600), the verifier key a third party checks checkpoints with to
 * FILE.pub. Never overwrites a key: losing one breaks the chain of signed
 * checkpoints. Needs neither the index nor a configuration file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "ctl.h"
#include "xalloc.h"

/* Say which of the two files is in the way; returns CTL_EXIT_NOTFOUND. */
static int
keygen_exists(const char *path, const char *pub_path)
{
	const char *which;
	struct stat st;

	if (lstat(path, &st) == 0)
		which = path;
	else if (lstat(pub_path, &st) == 0)
		which = pub_path;
	else
		return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' or '%s' already "
		    "exists; not overwriting a key", path, pub_path);
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' already exists (empty:"
		    " left by an interrupted keygen? remove it and run again);"
		    " not overwriting", which);
	return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' already exists; not "
	    "overwriting a key (checkpoints signed with it could no longer "
	    "be verified): choose another --out", which);
}

static void
keygen_print(const char *name, const char *key, const char *pub,
    const char *vtext)
{
	printf("created signing key '%s'\n"
	    "  private key:   %s (mode 0600; keep it secret and backed up)\n"
	    "  verifier key:  %s\n"
	    "                 %s\n"
	    "Set 'signing_key_file = %s' in the daemon's configuration (or"
	    " pass it with systemd's LoadCredential=), and give a copy of %s"
	    " to IT and the clerk to keep apart from the archive: it is what"
	    " a third party needs to verify the signed checkpoints.\n",
	    name, key, pub, vtext, key, pub);
}

int
cmd_keygen(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "name",	required_argument,	NULL,	'n' },
		{ "out",	required_argument,	NULL,	'o' },
		CTL_OPTIONS_COMMON
	};
	char defname[CHECKPOINT_NAME_MAX], keyabs[PATH_MAX], pubabs[PATH_MAX];
	const char *name = NULL, *out = NULL;
	struct checkpoint_key *key = NULL;
	char *pub_path, *vtext = NULL;
	char err[512];
	json_t *o;
	int c, r, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "n:o:h", opts)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	if (out == NULL || out[0] == '\0')
		return ctl_usage(ctl, "where should the key go? give --out "
		    "FILE");
	if (name == NULL) {
		r = checkpoint_default_name(defname, sizeof(defname));
		if (r < 0)
			return ctl_usage(ctl, "cannot make a key name from the "
			    "host name (%s); give --name NAME", strerror(-r));
		name = defname;
	}
	if (!checkpoint_name_valid(name))
		return ctl_usage(ctl, "invalid key name '%s': it must be 1 to "
		    "%d bytes without spaces, control characters or '+'",
		    name, CHECKPOINT_NAME_MAX - 1);

	pub_path = xasprintf("%s%s", out, CHECKPOINT_PUB_SUFFIX);
	r = checkpoint_keygen(out, name);
	if (r == -EEXIST) {
		ex = keygen_exists(out, pub_path);
		goto out_free;
	}
	if (r < 0) {
		ex = ctl_fail(CTL_EXIT_IO, "cannot create signing key '%s': %s",
		    out, strerror(-r));
		goto out_free;
	}
	if (realpath(out, keyabs) == NULL || realpath(pub_path, pubabs) ==
	    NULL) {
		ex = ctl_fail(CTL_EXIT_IO, "cannot find signing key '%s' just "
		    "created: %s", out, strerror(errno));
		goto out_free;
	}
	/* Read it back as the daemon will: the file is usable as written. */
	r = checkpoint_key_load(keyabs, name, &key, err, sizeof(err));
	if (r == 0)
		r = checkpoint_key_verifier(key, &vtext);
	if (r < 0) {
		ex = ctl_fail(CTL_EXIT_IO, "%s", r == -EIO ? "cannot read back"
		    " the key just created" : err);
		goto out_free;
	}
	ex = CTL_EXIT_OK;
	if (ctl->json) {
		o = json_object();
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "private_key_file",
		    ctl_json_str(keyabs));
		json_object_set_new(o, "verifier_key_file",
		    ctl_json_str(pubabs));
		json_object_set_new(o, "verifier_key", json_string(vtext));
		ex = ctl_print_json(o);
	} else {
		keygen_print(name, keyabs, pubabs, vtext);
	}

out_free:
	checkpoint_key_free(key);
	free(vtext);
	free(pub_path);
	return ex;
}
