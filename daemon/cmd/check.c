/*
 * check.c - "sunarchive check": verify the archive's integrity (see
 * include/verify.h for what is checked and the finding codes), print one
 * line per finding and a summary (or a JSON report), record the run as a
 * fixity event for the daemon to archive, and exit 0 when nothing is
 * wrong (warnings allowed), 1 on integrity errors, 2 on usage errors and
 * 3 when the index or the archive cannot be read at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctl.h"
#include "spool.h"
#include "util.h"
#include "verify.h"
#include "xalloc.h"

#define CHECK_MB	1e6	/* throughput in MB/s, as disks are sold */

enum {
	OPT_FULL = 0x200, OPT_SINCE, OPT_AGAINST, OPT_KEY, OPT_JOBS,
	OPT_TSA_CA, OPT_SEGMENT,
};

static const char *
check_mode(const struct verify_opts *o)
{
	return o->full ? "full" : "quick";
}

static double
check_rate(const struct verify_report *rep)
{
	return rep->read_seconds > 0 ? (double)rep->bytes / CHECK_MB /
	    rep->read_seconds : 0.0;
}

static void
check_print_finding(const struct verify_finding *f)
{
	struct buf line;
	size_t i;

	buf_init(&line, 0);
	buf_printf(&line, "%s", verify_code_id(f->code));
	if (f->file != NULL)
		buf_printf(&line, " %s", f->file);
	if (f->offset >= 0)
		buf_printf(&line, " offset %lld", (long long)f->offset);
	buf_printf(&line, ": %s", f->message);
	if (f->record_id != NULL || f->nitems > 0) {
		buf_puts(&line, " (");
		if (f->record_id != NULL)
			buf_printf(&line, "record %s", f->record_id);
		if (f->nitems > 0)
			buf_printf(&line, "%sitem%s ", f->record_id != NULL ?
			    ", " : "", f->nitems + f->more_items > 1 ? "s" :
			    "");
		for (i = 0; i < f->nitems; i++)
			buf_printf(&line, "%s%s", i > 0 ? ", " : "",
			    f->items[i]);
		if (f->more_items > 0)
			buf_printf(&line, " and %zu more", f->more_items);
		buf_puts(&line, ")");
	}
	/* Ids and messages quote archived bytes: keep them terminal-safe. */
	ctl_put_text(stdout, line.data, 0, CTL_TEXT_ONELINE);
	fputc('\n', stdout);
	buf_release(&line);
}

static void
check_print_text(const struct verify_opts *o, const struct verify_report *rep)
{
	char size[32];
	size_t i;

	for (i = 0; i < rep->nfindings; i++)
		check_print_finding(&rep->findings[i]);
	printf("check %s: %s, %zu error%s, %zu warning%s; %llu segment%s,"
	    " %llu record%s, %llu checkpoint%s; read %s (%llu bytes) in"
	    " %.2f s, %.1f MB/s; %.2f s in all\n", check_mode(o),
	    rep->errors > 0 ? "FAILED" : "ok", rep->errors,
	    rep->errors == 1 ? "" : "s", rep->warnings,
	    rep->warnings == 1 ? "" : "s",
	    (unsigned long long)rep->segments, rep->segments == 1 ? "" : "s",
	    (unsigned long long)rep->records, rep->records == 1 ? "" : "s",
	    (unsigned long long)rep->checkpoints,
	    rep->checkpoints == 1 ? "" : "s",
	    ctl_fmt_size((int64_t)rep->bytes, size, sizeof(size)),
	    (unsigned long long)rep->bytes, rep->read_seconds,
	    check_rate(rep), rep->seconds);
	if (rep->uncovered > 0)
		printf("note: %llu record%s after the newest checkpoint %s"
		    " not covered by any yet\n",
		    (unsigned long long)rep->uncovered,
		    rep->uncovered == 1 ? "" : "s",
		    rep->uncovered == 1 ? "is" : "are");
}

static json_t *
check_finding_json(const struct verify_finding *f)
{
	json_t *o = json_object(), *items = json_array();
	size_t i;

	for (i = 0; i < f->nitems; i++)
		json_array_append_new(items, ctl_json_str(f->items[i]));
	json_object_set_new(o, "code", json_string(verify_code_id(f->code)));
	json_object_set_new(o, "name", json_string(verify_code_name(
	    f->code)));
	json_object_set_new(o, "severity", json_string(
	    verify_code_severity(f->code) == VERIFY_ERROR ? "error" :
	    "warning"));
	json_object_set_new(o, "file", ctl_json_str(f->file));
	json_object_set_new(o, "offset", f->offset >= 0 ?
	    json_integer(f->offset) : json_null());
	json_object_set_new(o, "record_id", ctl_json_str(f->record_id));
	json_object_set_new(o, "items", items);
	if (f->more_items > 0)
		json_object_set_new(o, "more_items",
		    json_integer((json_int_t)f->more_items));
	json_object_set_new(o, "message", ctl_json_str(f->message));
	return o;
}

static int
check_print_json(const struct verify_opts *o, const struct verify_report *rep)
{
	json_t *j = json_object(), *list = json_array();
	char since[CTL_TIME_LEN];
	size_t i;

	for (i = 0; i < rep->nfindings; i++)
		json_array_append_new(list, check_finding_json(
		    &rep->findings[i]));
	json_object_set_new(j, "result", json_string(rep->errors > 0 ?
	    "failed" : "ok"));
	json_object_set_new(j, "mode", json_string(check_mode(o)));
	json_object_set_new(j, "since", o->since > 0 ? json_string(
	    ctl_fmt_time(o->since, since, sizeof(since))) : json_null());
	json_object_set_new(j, "errors", json_integer((json_int_t)
	    rep->errors));
	json_object_set_new(j, "warnings", json_integer((json_int_t)
	    rep->warnings));
	json_object_set_new(j, "findings", list);
	json_object_set_new(j, "segments", json_integer((json_int_t)
	    rep->segments));
	json_object_set_new(j, "records", json_integer((json_int_t)
	    rep->records));
	json_object_set_new(j, "bytes", json_integer((json_int_t)rep->bytes));
	json_object_set_new(j, "checkpoints", json_integer((json_int_t)
	    rep->checkpoints));
	json_object_set_new(j, "uncovered", json_integer((json_int_t)
	    rep->uncovered));
	json_object_set_new(j, "seconds", json_real(rep->seconds));
	json_object_set_new(j, "read_seconds", json_real(rep->read_seconds));
	json_object_set_new(j, "mb_per_s", json_real(check_rate(rep)));
	return ctl_print_json(j);
}

/*
 * The run as a fixity event, queued for sunarchived to archive. A tool
 * run by a user who cannot write the spool still checks: say so, go on.
 */
static void
check_record(const char *state, const struct verify_opts *o,
    const struct verify_report *rep)
{
	char since[CTL_TIME_LEN], id[RECORD_ID_LEN];
	json_t *ev;
	int r;

	ev = json_object();
	json_object_set_new(ev, "event", json_string("fixity"));
	json_object_set_new(ev, "mode", json_string(check_mode(o)));
	json_object_set_new(ev, "result", json_string(rep->errors > 0 ?
	    "failed" : "ok"));
	json_object_set_new(ev, "errors", json_integer((json_int_t)
	    rep->errors));
	json_object_set_new(ev, "warnings", json_integer((json_int_t)
	    rep->warnings));
	json_object_set_new(ev, "records", json_integer((json_int_t)
	    rep->records));
	json_object_set_new(ev, "bytes", json_integer((json_int_t)
	    rep->bytes));
	json_object_set_new(ev, "checkpoints", json_integer((json_int_t)
	    rep->checkpoints));
	json_object_set_new(ev, "since", o->since > 0 ? json_string(
	    ctl_fmt_time(o->since, since, sizeof(since))) : json_null());
	json_object_set_new(ev, "against", json_boolean(o->against != NULL));
	r = spool_write(state, ev, id, sizeof(id));
	json_decref(ev);
	if (r < 0)
		ctl_fail(0, "cannot record this check as a fixity event in"
		    " '%s/%s': %s (the result stands)", state, SPOOL_DIR,
		    strerror(-r));
}

int
cmd_check(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "full",	no_argument,		NULL,	OPT_FULL },
		{ "since",	required_argument,	NULL,	OPT_SINCE },
		{ "against",	required_argument,	NULL,	OPT_AGAINST },
		{ "key",	required_argument,	NULL,	OPT_KEY },
		{ "jobs",	required_argument,	NULL,	OPT_JOBS },
		{ "tsa-ca",	required_argument,	NULL,	OPT_TSA_CA },
		{ "segment",	required_argument,	NULL,	OPT_SEGMENT },
		CTL_OPTIONS_COMMON
	};
	struct verify_report rep;
	struct verify_opts o;
	const char *state;
	char err[1024] = "";
	int64_t v;
	int ch, r, ex;

	memset(&o, 0, sizeof(o));
	o.jobs = VERIFY_JOBS_DEFAULT;
	while ((ch = ctl_getopt(ctl, argc, argv, "", opts)) != -1) {
		switch (ch) {
		case OPT_FULL:
			o.full = 1;
			break;
		case OPT_SINCE:
			if (util_parse_time(optarg, &o.since) < 0)
				return ctl_usage(ctl, "--since: '%s' is not a"
				    " date (YYYY-MM-DD or RFC 3339)", optarg);
			break;
		case OPT_AGAINST:
			o.against = optarg;
			break;
		case OPT_KEY:
			o.key = optarg;
			break;
		case OPT_JOBS:
			if (util_parse_int(optarg, 1, VERIFY_JOBS_MAX, &v) < 0)
				return ctl_usage(ctl, "--jobs: '%s' is not a"
				    " number from 1 to %d", optarg,
				    VERIFY_JOBS_MAX);
			o.jobs = (int)v;
			break;
		case OPT_TSA_CA:
			o.tsa_ca = optarg;
			break;
		case OPT_SEGMENT:
			o.only_segment = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	if (ctl_state_dir(ctl, &state) < 0)
		return CTL_EXIT_IO;
	o.state_dir = state;
	r = verify_run(&o, &rep, err, sizeof(err));
	if (r == -EINVAL)
		return ctl_usage(ctl, "%s", err);
	if (r < 0)
		return ctl_fail(CTL_EXIT_IO, "%s", err);
	if (ctl->json)
		ex = check_print_json(&o, &rep);
	else {
		check_print_text(&o, &rep);
		ex = CTL_EXIT_OK;
	}
	check_record(state, &o, &rep);
	if (ex == CTL_EXIT_OK && rep.errors > 0)
		ex = CTL_EXIT_NOTFOUND;
	verify_report_release(&rep);
	return ex;
}
