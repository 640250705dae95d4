/*
 * reindex.c - "sunarchive reindex --out NEW.sqlite": rebuild the index
 * from the WARC segments alone, into a new file, without touching the
 * live index. IT uses it to recover a lost or damaged index, and to show
 * that the index holds nothing the archive does not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "reindex.h"

int
cmd_reindex(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		CTL_OPTIONS_COMMON
	};
	struct reindex_result res;
	const char *out = NULL, *state;
	char err[1024];
	json_t *j;
	int ch, r;

	while ((ch = ctl_getopt(ctl, argc, argv, "o:", opts)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	if (out == NULL)
		return ctl_usage(ctl, "--out NEW.sqlite is required");
	if (ctl_state_dir(ctl, &state) < 0)
		return CTL_EXIT_IO;
	r = reindex_run(state, out, &res, err, sizeof(err));
	if (r == -EEXIST)
		return ctl_fail(CTL_EXIT_USAGE, "%s", err);
	if (r < 0)
		return ctl_fail(CTL_EXIT_IO, "%s", err);
	if (ctl->json) {
		j = json_pack("{s:s, s:i, s:I, s:I, s:s?, s:I}", "out", out,
		    "segments", res.segments, "records",
		    (json_int_t)res.records, "unreadable_bytes",
		    (json_int_t)res.bad_bytes, "first_unreadable_file",
		    res.bad_bytes > 0 ? res.bad_file : NULL,
		    "first_unreadable_offset", (json_int_t)res.bad_offset);
		ctl_print_json(j);
	} else {
		printf("rebuilt '%s' from %d segment(s): %llu record(s)\n",
		    out, res.segments, (unsigned long long)res.records);
		if (res.bad_bytes > 0)
			printf("warning: %llu byte(s) are not whole records,"
			    " first at '%s' offset %llu; run 'sunarchive"
			    " check --full'\n",
			    (unsigned long long)res.bad_bytes, res.bad_file,
			    (unsigned long long)res.bad_offset);
	}
	return res.bad_bytes > 0 ? CTL_EXIT_NOTFOUND : CTL_EXIT_OK;
}
