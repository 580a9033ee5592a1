/*
 * cmd_policy.c - the policy gate's front ends: `slipway check`, `slipway
 * calendar`, `slipway policy show|check` (docs/policy.md).
 *
 * Each command loads the effective policy (the --policy file merged over
 * the built-in runbook v1.0 default, or the default alone), opens its time
 * zone from tzdata, asks core (calendar.h) and prints the answer as text
 * for people or JSON (-o json) for pipelines.  Policy errors are printed as
 * "FILE:LINE:COL: what is wrong; what would be valid" and exit 2.
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "server/documents.h"
#include "cli/vocab.h"
#include "cli/cli_policy.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/tz.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/suggest.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/calendar.h"
#include "core/checklist.h"
#include "core/judge.h"
#include "core/sarif.h"
#include "core/policy.h"

const char usage_check[] =
	"usage: slipway check --type TYPE [--at TIME] [--class CLASS] [--policy FILE] [-o json]\n"
	"\n"
	"May a deployment of TYPE start at TIME?  Answers: allowed or blocked, the window\n"
	"used, every approval needed (the type's roles plus those the window adds), every\n"
	"rule that blocks it and when that rule ends, and the earliest moment at or after\n"
	"TIME when it would be allowed (runbook: Deployment Types, Deployment Windows,\n"
	"Deployment Freeze Calendar).\n"
	"\n"
	"   --type TYPE       standard, hotfix, emergency, database-migration,\n"
	"                     infrastructure-change (or a type of your policy)\n"
	"   --at TIME         RFC 3339, e.g. 2026-12-03T15:00:00Z (default: now)\n"
	"   --class CLASS     change class: normal (default), security, critical-security\n"
	"   --policy FILE     policy file (default: global --policy, $SLIPWAY_POLICY,\n"
	"                     ./slipway.yaml, else the built-in runbook v1.0 policy)\n"
	"   -o, --output FMT  text (default) or json\n"
	"\n"
	"Exit status: 0 allowed (approvals may still be needed), 1 blocked,\n"
	"2 bad usage or invalid policy.\n";

const char usage_calendar[] =
	"usage: slipway calendar [--from DATE] [--to DATE] [--type TYPE] [--class CLASS] [--policy FILE] [-o json]\n"
	"\n"
	"The spans in which a deployment of TYPE may start, day by day, with the window\n"
	"and the approvals, and the freezes in the range.  Times are wall-clock times in\n"
	"the policy's timezone.\n"
	"\n"
	"   --from DATE       first day, YYYY-MM-DD (default: now)\n"
	"   --to DATE         last day, inclusive, YYYY-MM-DD (default: the 14th day after --from)\n"
	"   --type TYPE       deployment type (default standard)\n"
	"   --class CLASS     change class (default normal)\n"
	"   --policy FILE     policy file (as for 'slipway check')\n"
	"   -o, --output FMT  text (default) or json\n";

const char usage_policy[] =
	"usage: slipway policy show [--policy FILE] [-o json]\n"
	"   or: slipway policy check FILE\n"
	"\n"
	"show   print the effective policy (the built-in runbook v1.0 default with the\n"
	"       policy file merged over it), as YAML commented where the runbook is\n"
	"       silent, or as JSON.  The YAML loads back with 'slipway policy check'.\n"
	"check  validate a policy file; errors are FILE:LINE:COL: what is wrong; what\n"
	"       would be valid.  Exit 0 valid, 2 invalid.\n";

static json_t *json_names(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *json_policy_names(const struct policy_names *l)
{
	return json_names((const char *const *)l->v, l->nr);
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* "Thu 2026-12-03 16:00" in the policy's zone. */
static const char *local_text(const struct tz_zone *z, int64_t utc_ms, char *buf, size_t sz)
{
	struct civil c;
	civil_from_ms(tz_to_local(z, utc_ms), &c);
	snprintf(buf, sz, "%s %04d-%02d-%02d %02d:%02d", policy_day_name(c.wday), c.year, c.month, c.day, c.hour,
		 c.min);
	buf[0] = (char)(buf[0] - 'a' + 'A');
	return buf;
}

static void print_time(const struct policy_file *l, int64_t ms)
{
	char buf[RFC3339_BUFSZ], lt[64];
	if (ms == CALENDAR_NO_TIME) {
		printf("not within the next %d days", CALENDAR_SEARCH_DAYS);
		return;
	}
	printf("%s (%s %s)", time_format_rfc3339(ms, buf), local_text(&l->tz.zone, ms, lt, sizeof(lt)),
	       l->p.timezone);
}

static void print_list(const char *const *v, size_t n)
{
	if (!n)
		fputs("none", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", v[i]);
}

static int parse_type_class(const struct policy *p, const char *type, const char *cls)
{
	struct strbuf err = STRBUF_INIT;
	int r = doc_check_type_class(p, type, cls, &err);
	if (r < 0)
		cli_error("%s", err.buf);
	strbuf_release(&err);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

int cmd_check(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *type = NULL, *at_s = NULL, *cls = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("type", 't', &type),
		CLI_STRING("at", 'a', &at_s),
		CLI_STRING("class", 'c', &cls),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct calendar_result r;
	struct policy_file l;
	int64_t at;
	int rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	if (!type)
		return cli_usage_error(ctx, "check", "--type is required (standard, hotfix, emergency, database-migration, infrastructure-change)");
	if (at_s) {
		if (time_parse_rfc3339(at_s, &at, &err) < 0) {
			cli_error("--at: %s", err.buf);
			strbuf_release(&err);
			return EXIT_USAGE;
		}
	} else {
		at = cli_now_ms();
	}
	if ((rc = cli_policy_load(ctx->policy_path, &l)) != EXIT_OK)
		return rc;
	if ((rc = parse_type_class(&l.p, type, cls)) != EXIT_OK) {
		cli_policy_release(&l);
		return rc;
	}
	if (calendar_check(&l.p, &l.tz.zone, type, cls, at, &r, &err) < 0) {
		cli_error("%s", err.buf);
		strbuf_release(&err);
		cli_policy_release(&l);
		return EXIT_USAGE;
	}

	if (ctx->output == OUTPUT_JSON) {
		cli_print_json(doc_policy_check(&l, &r));
	} else {
		printf("%s: %s deployment, class %s, at ", r.allowed ? "allowed" : "blocked", r.type, r.change_class);
		print_time(&l, r.at_ms);
		printf("\n  window:        %s\n  approvals:     ", r.window ? r.window : "none open");
		print_list(r.approvals, r.approvals_nr);
		putchar('\n');
		{
			/* the checklist items a deployment of this type waits for (docs/checklists.md) */
			size_t nb = 0;
			fputs("  checklist:     ", stdout);
			for (size_t i = 0; i < l.p.checklists.nr; i++)
				if (checklist_blocks(&l.p.checklists.v[i], type))
					printf("%s%s (%s)", nb++ ? ", " : "waits for ", l.p.checklists.v[i].id,
					       checklist_check_name(l.p.checklists.v[i].check));
			printf("%s\n", nb ? "; 'slipway checklist DEPLOYMENT' shows their state" : "no blocking item");
		}
		for (size_t i = 0; i < r.blocked_nr; i++) {
			const struct check_blocker *bl = &r.blocked_by[i];
			printf("  blocked by:    %s '%s' until ", bl->kind == BLOCKER_WINDOW ? "window" : "freeze", bl->name);
			print_time(&l, bl->until_ms);
			if (bl->kind == BLOCKER_WINDOW)
				fputs(" (closed)", stdout);
			else {
				const struct policy_freeze *f = policy_find_freeze(&l.p, bl->name);
				fputs(" (admits ", stdout);
				print_list((const char *const *)f->admits.v, f->admits.nr);
				putchar(')');
			}
			putchar('\n');
		}
		if (!r.allowed) {
			fputs("  next allowed:  ", stdout);
			if (r.has_next) {
				print_time(&l, r.next_ms);
				printf(", window %s, approvals ", r.next_window);
				print_list(r.next_approvals, r.next_approvals_nr);
			} else {
				printf("not within the next %d days", CALENDAR_SEARCH_DAYS);
			}
			putchar('\n');
		}
	}
	rc = r.allowed ? EXIT_OK : EXIT_NO;
	calendar_result_release(&r);
	cli_policy_release(&l);
	strbuf_release(&err);
	return rc;
}

static void print_calendar_text(const struct policy_file *l, const char *type, const char *cls, int64_t from,
				int64_t to, const struct calendar *cal)
{
	const struct tz_zone *z = &l->tz.zone;
	char a[64], b[64];
	int64_t d0 = calendar_local_date(z, from), d1 = calendar_local_date(z, to - 1);
	size_t si = 0;

	printf("calendar: %s deployments, class %s, %s .. %s, times in %s\n\n", type, cls,
	       local_text(z, from, a, sizeof(a)), local_text(z, to, b, sizeof(b)), l->p.timezone);
	printf("%-15s %-5s  %-5s  %-10s %s\n", "day", "from", "to", "window", "approvals");
	for (int64_t d = d0; d <= d1; d++) {
		struct civil c;
		char day[32];
		int any = 0;
		civil_from_ms(d * MS_PER_DAY, &c);
		snprintf(day, sizeof(day), "%s %04d-%02d-%02d", policy_day_name(c.wday), c.year, c.month, c.day);
		day[0] = (char)(day[0] - 'a' + 'A');
		while (si < cal->spans_nr && calendar_local_date(z, cal->spans[si].from_ms) == d) {
			const struct calendar_span *s = &cal->spans[si++];
			struct civil f, t;
			int64_t tl = tz_to_local(z, s->to_ms);
			civil_from_ms(tz_to_local(z, s->from_ms), &f);
			civil_from_ms(tl, &t);
			if (tl - d * MS_PER_DAY >= MS_PER_DAY)
				t.hour = 24, t.min = 0;
			printf("%-15s %02d:%02d  %02d:%02d  %-10s ", any ? "" : day, f.hour, f.min, t.hour, t.min,
			       s->window);
			print_list(s->approvals, s->approvals_nr);
			putchar('\n');
			any = 1;
		}
		if (!any) {
			const char *why = "no window open";
			for (size_t k = 0; k < cal->freezes_nr; k++)
				if (cal->freezes[k].blocks && d >= cal->freezes[k].from_date &&
				    d <= cal->freezes[k].until_date) {
					why = cal->freezes[k].freeze->name;
					printf("%-15s %-5s  %-5s  frozen: %s\n", day, "-", "-", why);
					why = NULL;
					break;
				}
			if (why)
				printf("%-15s %-5s  %-5s  %s\n", day, "-", "-", why);
		}
	}
	printf("\nfreezes in this range:%s\n", cal->freezes_nr ? "" : " none");
	for (size_t k = 0; k < cal->freezes_nr; k++) {
		const struct calendar_freeze *f = &cal->freezes[k];
		struct civil s, e;
		civil_from_ms(f->from_date * MS_PER_DAY, &s);
		civil_from_ms(f->until_date * MS_PER_DAY, &e);
		printf("  %-14s %04d-%02d-%02d .. %04d-%02d-%02d  %s; admits ", f->freeze->name, s.year, s.month,
		       s.day, e.year, e.month, e.day, f->blocks ? "blocks this deployment" : "admits this deployment");
		print_list((const char *const *)f->freeze->admits.v, f->freeze->admits.nr);
		if (f->freeze->reason)
			printf(" (%s)", f->freeze->reason);
		putchar('\n');
	}
}

int cmd_calendar(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *from_s = NULL, *to_s = NULL, *type = "standard", *cls = NULL;
	const struct cli_option opts[] = {
		CLI_STRING("from", 'f', &from_s),
		CLI_STRING("to", 'T', &to_s),
		CLI_STRING("type", 't', &type),
		CLI_STRING("class", 'c', &cls),
		CLI_OPTIONS_END,
	};
	struct strbuf err = STRBUF_INIT;
	struct calendar cal;
	struct policy_file l;
	int64_t from, to, d;
	int rc;

	if ((rc = cli_parse(ctx, argc, argv, opts, NULL, NULL)) != EXIT_OK)
		return rc;
	if ((rc = cli_policy_load(ctx->policy_path, &l)) != EXIT_OK)
		return rc;
	if ((rc = parse_type_class(&l.p, type, cls)) != EXIT_OK)
		goto out;
	rc = EXIT_USAGE;
	if (from_s) {
		if (date_parse(from_s, &d, &err) < 0) {
			cli_error("--from: %s", err.buf);
			goto out;
		}
		from = calendar_date_start(&l.tz.zone, d);
	} else {
		from = cli_now_ms();
	}
	if (to_s) {
		if (date_parse(to_s, &d, &err) < 0) {
			cli_error("--to: %s", err.buf);
			goto out;
		}
		to = calendar_date_start(&l.tz.zone, d + 1);
	} else {
		to = calendar_date_start(&l.tz.zone, calendar_local_date(&l.tz.zone, from) + 15);
	}
	if (calendar_spans(&l.p, &l.tz.zone, type, cls, from, to, &cal, &err) < 0) {
		cli_error("%s", err.buf);
		goto out;
	}
	if (!cls)
		cls = "normal";
	if (ctx->output == OUTPUT_JSON) {
		cli_print_json(doc_calendar(&l, type, cls, from, to, &cal));
	} else {
		print_calendar_text(&l, type, cls, from, to, &cal);
	}
	calendar_release(&cal);
	rc = EXIT_OK;
out:
	strbuf_release(&err);
	cli_policy_release(&l);
	return rc;
}

/* The checklists: section (docs/checklists.md): {ID: {list, text, who, check, blocks: "all"|[types], fail_at?}}. */
static json_t *json_checklists(const struct checklist_set *s)
{
	json_t *o = json_object();

	for (size_t i = 0; i < s->nr; i++) {
		const struct checklist_item *it = &s->v[i];
		json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "list", checklist_list_name(it->list), "text", it->text,
				      "who", it->who, "check", checklist_check_name(it->check));
		json_object_set_new(e, "blocks", it->blocks.all ? json_string("all")
								: json_names((const char *const *)it->blocks.v, it->blocks.nr));
		if (it->check == CHECK_SARIF)
			json_object_set_new(e, "fail_at", json_string(sarif_severity_name(it->fail_at)));
		json_object_set_new(o, it->id, e);
	}
	return o;
}

static json_t *json_policy(const struct policy *p)
{
	json_t *j = json_object(), *o, *e;
	char buf[DURATION_BUFSZ];

	json_object_set_new(j, "source", json_string(p->source));
	json_object_set_new(j, "timezone", json_string(p->timezone));
	json_object_set_new(j, "approval_ttl", json_string(duration_format(p->approval_ttl_ms, buf)));
	json_object_set_new(j, "approval_ttl_ms", json_integer(p->approval_ttl_ms));
	json_object_set_new(j, "on_window_close", json_string(policy_window_close_name(p->on_window_close)));
	o = json_object();
	for (size_t i = 0; i < p->roles_nr; i++)
		json_object_set_new(o, p->roles[i].name, json_policy_names(&p->roles[i].people));
	json_object_set_new(j, "roles", o);
	o = json_object();
	for (size_t i = 0; i < p->classes_nr; i++)
		json_object_set_new(o, p->classes[i].name, json_str_or_null(p->classes[i].description));
	json_object_set_new(j, "change_classes", o);
	o = json_object();
	for (size_t i = 0; i < p->windows_nr; i++) {
		const struct policy_window *w = &p->windows[i];
		json_t *days = json_array();
		char t[32];
		e = json_object();
		json_object_set_new(e, "description", json_str_or_null(w->description));
		for (int k = 1; k <= 7; k++)
			if (w->days & (1u << (k % 7)))
				json_array_append_new(days, json_string(policy_day_name(k % 7)));
		json_object_set_new(e, "days", days);
		snprintf(t, sizeof(t), "%02d:%02d", w->from_min / 60, w->from_min % 60);
		json_object_set_new(e, "from", json_string(t));
		snprintf(t, sizeof(t), "%02d:%02d", w->to_min / 60, w->to_min % 60);
		json_object_set_new(e, "to", json_string(t));
		json_object_set_new(e, "approvals", json_policy_names(&w->approvals));
		json_object_set_new(o, w->name, e);
	}
	json_object_set_new(j, "windows", o);
	o = json_object();
	for (size_t i = 0; i < p->freezes_nr; i++) {
		const struct policy_freeze *f = &p->freezes[i];
		char t[48];
		struct civil c;
		e = json_object();
		json_object_set_new(e, "kind", json_string(policy_freeze_kind_name(f->kind)));
		json_object_set_new(e, "reason", json_str_or_null(f->reason));
		if (f->kind == FREEZE_ANNUAL) {
			snprintf(t, sizeof(t), "%02d-%02d", f->from_month, f->from_day);
			json_object_set_new(e, "from", json_string(t));
			snprintf(t, sizeof(t), "%02d-%02d", f->until_month, f->until_day);
			json_object_set_new(e, "until", json_string(t));
		} else if (f->kind == FREEZE_QUARTER_END) {
			json_object_set_new(e, "last_days", json_integer(f->last_days));
		} else {
			civil_from_ms(f->from_date * MS_PER_DAY, &c);
			snprintf(t, sizeof(t), "%04d-%02d-%02d", c.year, c.month, c.day);
			json_object_set_new(e, "from", json_string(t));
			civil_from_ms(f->until_date * MS_PER_DAY, &c);
			snprintf(t, sizeof(t), "%04d-%02d-%02d", c.year, c.month, c.day);
			json_object_set_new(e, "until", json_string(t));
		}
		json_object_set_new(e, "admits", json_policy_names(&f->admits));
		json_object_set_new(o, f->name, e);
	}
	json_object_set_new(j, "freezes", o);
	o = json_object();
	for (size_t i = 0; i < p->types_nr; i++) {
		const struct policy_type *t = &p->types[i];
		e = json_object();
		json_object_set_new(e, "description", json_str_or_null(t->description));
		json_object_set_new(e, "approvals", json_policy_names(&t->approvals));
		json_object_set_new(e, "testing", json_str_or_null(t->testing));
		json_object_set_new(e, "strategy", json_str_or_null(t->strategy));
		if (t->monitoring_ms == MONITORING_CONTINUOUS) {
			json_object_set_new(e, "monitoring", json_string("continuous"));
			json_object_set_new(e, "monitoring_ms", json_null());
		} else {
			json_object_set_new(e, "monitoring", json_string(duration_format(t->monitoring_ms, buf)));
			json_object_set_new(e, "monitoring_ms", json_integer(t->monitoring_ms));
		}
		json_object_set_new(e, "rollback", json_string(policy_criterion_name(t->criterion)));
		if (t->criterion == TYPE_CRIT_ERROR_RATE)
			json_object_set_new(e, "rollback_error_rate", json_real(t->criterion_error_rate_pct));
		json_object_set_new(e, "windows", json_policy_names(&t->windows));
		json_object_set_new(o, t->name, e);
	}
	json_object_set_new(j, "types", o);
	o = json_object();
	e = json_object();
	json_object_set_new(e, "error_rate", json_real(p->immediate.error_rate_pct));
	json_object_set_new(e, "p99_latency_ratio", json_real(p->immediate.p99_ratio));
	json_object_set_new(o, "immediate", e);
	e = json_object();
	json_object_set_new(e, "error_rate", json_real(p->consider.error_rate_pct));
	json_object_set_new(e, "p99_latency_ratio", json_real(p->consider.p99_ratio));
	json_object_set_new(o, "consider", e);
	json_object_set_new(j, "rollback", o);
	o = json_object();
	for (int i = 0; i < METRIC__COUNT; i++) {
		const struct policy_metric *m = &p->metrics[i];
		e = json_object();
		if (m->unit == POLICY_METRIC_PCT) {
			json_object_set_new(e, "unit", json_string("percent"));
			json_object_set_new(e, "target", json_real(m->target));
			json_object_set_new(e, "threshold", json_real(m->threshold));
		} else {
			json_object_set_new(e, "unit", json_string(m->unit == POLICY_METRIC_PERIOD ? "period_ms" : "ms"));
			json_object_set_new(e, "target", json_integer((json_int_t)m->target));
			json_object_set_new(e, "threshold", json_integer((json_int_t)m->threshold));
		}
		json_object_set_new(o, m->name, e);
	}
	json_object_set_new(j, "metrics", o);
	json_object_set_new(j, "checklists", json_checklists(&p->checklists));
	{
		int64_t hh = p->fleet.host_hold_max_ms > 0 ? p->fleet.host_hold_max_ms : HOST_HOLD_MAX_DEFAULT_MS;
		json_object_set_new(j, "fleet", json_pack("{s:s, s:I, s:s}", "host_hold_max", duration_format(hh, buf),
							  "host_hold_max_ms", (json_int_t)hh, "on_host_lost",
							  policy_host_lost_name(p->fleet.on_host_lost)));
	}
	{
		/* the same values as the text's judge: section (core/policy_show.c), defaults filled in */
		const struct judge_settings *js = &p->judge;
		int64_t mh = js->max_hold_min_ms > 0 ? js->max_hold_min_ms : (int64_t)JUDGE_MAX_HOLD_MIN_MS;
		e = json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:I}", "name", js->name[0] ? js->name : "sequential",
			      "alpha", js->alpha, "power", js->power, "effect", js->effect, "max_hold_factor",
			      js->max_hold_factor, "floor", js->floor_pct, "max_hold_min_ms", (json_int_t)mh);
		json_object_set_new(e, "max_hold_min", json_string(duration_format(mh, buf)));
		/* look unset: a sixth of the analysis interval, at least 5s (docs/judge.md) */
		json_object_set_new(e, "look", js->look_ms > 0 ? json_string(duration_format(js->look_ms, buf)) : json_null());
		json_object_set_new(e, "look_ms", js->look_ms > 0 ? json_integer(js->look_ms) : json_null());
		json_object_set_new(j, "judge", e);
	}
	{
		const struct followup_settings *f = &p->followup;
		e = json_object();
		json_object_set_new(e, "remind_every", json_string(duration_format(f->remind_every_ms, buf)));
		json_object_set_new(e, "remind_every_ms", json_integer(f->remind_every_ms));
		json_object_set_new(e, "postmortem_within", json_string(duration_format(f->postmortem_within_ms, buf)));
		json_object_set_new(e, "postmortem_within_ms", json_integer(f->postmortem_within_ms));
		json_object_set_new(e, "monitor_every", json_string(duration_format(f->monitor_every_ms, buf)));
		json_object_set_new(e, "monitor_every_ms", json_integer(f->monitor_every_ms));
		json_object_set_new(j, "followup", e);
	}
	return j;
}

static int policy_show(struct cli_ctx *ctx)
{
	struct policy_file l;
	int rc;

	if ((rc = cli_policy_load(ctx->policy_path, &l)) != EXIT_OK)
		return rc;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("Policy");
		json_object_update_new(j, json_policy(&l.p));
		cli_print_json(j);
	} else {
		struct strbuf out = STRBUF_INIT;
		policy_format_yaml(&l.p, &out);
		fwrite(out.buf, 1, out.len, stdout);
		strbuf_release(&out);
	}
	cli_policy_release(&l);
	return EXIT_OK;
}

static int policy_check(struct cli_ctx *ctx, const char *file)
{
	struct policy_file l;
	int rc;
	if (ctx->output == OUTPUT_JSON) {
		/* an invalid file is an answer too: {"valid": false, "errors": [...]} on
		   stdout (docs/schema/PolicyValidation.json), the message on stderr, exit 2 */
		struct strbuf err = STRBUF_INIT;
		if (policy_file_load(file, &l, NULL, &err) < 0) {
			json_t *j = cli_doc("PolicyValidation"), *errs = json_array();
			char *line = err.buf, *nl;
			cli_policy_print_errors(err.buf);	/* as cli_policy_load() says it */
			for (; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				if (*line)
					json_array_append_new(errs, json_string(line));
			}
			json_object_update_new(j, json_pack("{s:s, s:b, s:o}", "file", file, "valid", 0, "errors", errs));
			cli_print_json(j);
			strbuf_release(&err);
			return EXIT_USAGE;
		}
		strbuf_release(&err);
		cli_policy_release(&l);	/* loaded again below, with its warnings */
	}
	if ((rc = cli_policy_load(file, &l)) != EXIT_OK)
		return rc;
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("PolicyValidation");
		json_object_update_new(j, json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:s}", "file", file, "valid", 1,
						    "types", (json_int_t)l.p.types_nr, "windows", (json_int_t)l.p.windows_nr,
						    "freezes", (json_int_t)l.p.freezes_nr, "roles", (json_int_t)l.p.roles_nr,
						    "timezone", l.p.timezone));
		cli_print_json(j);
	} else {
		printf("%s: valid policy: %zu types, %zu windows, %zu freezes, %zu roles, timezone %s\n", file,
		       l.p.types_nr, l.p.windows_nr, l.p.freezes_nr, l.p.roles_nr, l.p.timezone);
	}
	cli_policy_release(&l);
	return EXIT_OK;
}

int cmd_policy(int argc, char **argv, struct cli_ctx *ctx)
{
	char **args;
	int nargs, rc;

	if ((rc = cli_parse(ctx, argc, argv, NULL, &args, &nargs)) != EXIT_OK)
		return rc;
	if (!strcmp(args[0], "show")) {
		if (nargs != 1)
			return cli_usage_error(ctx, "policy", "unexpected argument '%s'", args[1]);
		return policy_show(ctx);
	}
	if (!strcmp(args[0], "check")) {
		if (nargs != 2)
			return cli_usage_error(ctx, "policy", "'policy check' takes one FILE");
		return policy_check(ctx, args[1]);
	}
	return cli_usage_error(ctx, "policy", "unknown subcommand '%s'; valid: show, check", args[0]);
}
