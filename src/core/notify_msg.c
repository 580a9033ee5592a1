/*
 * notify_msg.c - message formatting; see notify_msg.h.  Every renderer
 * reads the same list of labelled lines (fields_of()), so the text, the
 * Slack fields and the CloudEvents data always carry the same fields as the
 * runbook's template.
 */
#include "core/notify_msg.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[NOTIFY_KIND_COUNT] = {
	"starting", "complete", "rollback", "emergency", "paused", "failed", "test", "followup",
};
static const char *const kind_titles[NOTIFY_KIND_COUNT] = {
	"DEPLOYMENT STARTING", "DEPLOYMENT COMPLETE", "ROLLBACK INITIATED", "EMERGENCY DEPLOYMENT",
	"DEPLOYMENT PAUSED", "DEPLOYMENT FAILED", "NOTIFICATION TEST",
	"POST-DEPLOYMENT FOLLOW-UP",
};
static const char *const default_status[NOTIFY_KIND_COUNT] = {
	"STARTING", "SUCCESS", "IN PROGRESS", "DEPLOYED", "WAITING FOR A DECISION", "FAILED", "TEST", "REMINDER",
};

const char *notify_kind_name(enum notify_kind k)
{
	return (unsigned)k < NOTIFY_KIND_COUNT ? kind_names[k] : "unknown";
}

const char *notify_kind_title(enum notify_kind k)
{
	return (unsigned)k < NOTIFY_KIND_COUNT ? kind_titles[k] : "NOTIFICATION";
}

int notify_kind_parse(const char *name, enum notify_kind *out)
{
	for (int i = 0; i < NOTIFY_KIND_COUNT; i++)
		if (name && !strcmp(name, kind_names[i])) {
			*out = (enum notify_kind)i;
			return 0;
		}
	return -1;
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "unknown";
}

void notify_format_duration(int64_t ms, struct strbuf *out)
{
	int64_t s = ms / 1000, h = s / 3600, m = (s % 3600) / 60;

	if (ms < 0) {
		strbuf_addstr(out, "unknown");
		return;
	}
	if (s < 60) {
		strbuf_addf(out, "%lld second%s", (long long)s, s == 1 ? "" : "s");
		return;
	}
	if (h > 0) {
		strbuf_addf(out, "%lld hour%s", (long long)h, h == 1 ? "" : "s");
		if (m > 0)
			strbuf_addf(out, " %lld minute%s", (long long)m, m == 1 ? "" : "s");
		return;
	}
	strbuf_addf(out, "%lld minute%s", (long long)m, m == 1 ? "" : "s");
}

#define MAX_FIELDS 8
struct field {
	const char *label;
	char value[512];
};

static void set_field(struct field *f, const char *label, const char *value)
{
	f->label = label;
	snprintf(f->value, sizeof(f->value), "%s", value);
}

/* The labelled lines of the kind's template, in the runbook's order. */
static int fields_of(const struct notify_event *ev, struct field *f)
{
	const char *status = ev->status && *ev->status ? ev->status : default_status[ev->kind < NOTIFY_KIND_COUNT ? ev->kind : 0];
	struct strbuf sb = STRBUF_INIT;
	int n = 0;

	set_field(&f[n++], "Service", or_unknown(ev->service));
	switch (ev->kind) {
	case NOTIFY_STARTING:
	case NOTIFY_TEST: {
		struct civil c;
		char t[32];
		if (ev->kind == NOTIFY_STARTING)
			set_field(&f[n++], "Version", or_unknown(ev->version));
		civil_from_ms(ev->at_ms, &c);
		snprintf(t, sizeof(t), "%02d:%02d UTC", c.hour, c.min);
		set_field(&f[n++], "Time", t);
		strbuf_addf(&sb, "@%s", or_unknown(ev->owner));
		set_field(&f[n++], "Owner", sb.buf);
		if (ev->kind == NOTIFY_TEST)
			set_field(&f[n++], "Status", status);
		break;
	}
	case NOTIFY_COMPLETE:
		set_field(&f[n++], "Version", or_unknown(ev->version));
		notify_format_duration(ev->duration_ms, &sb);
		set_field(&f[n++], "Duration", sb.buf);
		set_field(&f[n++], "Status", status);
		break;
	case NOTIFY_ROLLBACK:
		set_field(&f[n++], "From", or_unknown(ev->version));
		set_field(&f[n++], "To", or_unknown(ev->from_version));
		set_field(&f[n++], "Reason", or_unknown(ev->reason));
		strbuf_addf(&sb, "@%s", or_unknown(ev->owner));
		set_field(&f[n++], "Owner", sb.buf);
		set_field(&f[n++], "Status", status);
		break;
	case NOTIFY_EMERGENCY:
		set_field(&f[n++], "Version", or_unknown(ev->version));
		set_field(&f[n++], "Reason", or_unknown(ev->reason));
		set_field(&f[n++], "Approved by", or_unknown(ev->approver));
		set_field(&f[n++], "Status", status);
		break;
	case NOTIFY_PAUSED:
	case NOTIFY_FAILED:
	default:
		set_field(&f[n++], "Version", or_unknown(ev->version));
		set_field(&f[n++], "Reason", or_unknown(ev->reason));
		strbuf_addf(&sb, "@%s", or_unknown(ev->owner));
		set_field(&f[n++], "Owner", sb.buf);
		set_field(&f[n++], "Status", status);
		break;
	}
	strbuf_release(&sb);
	return n;
}

/* A line after the fields for PAUSED: what a person can do. */
static void decision_hint(const struct notify_event *ev, struct strbuf *out)
{
	if (ev->kind == NOTIFY_PAUSED && ev->deployment_id > 0)
		strbuf_addf(out, "Decide: slipway promote %lld | slipway abort %lld",
			    (long long)ev->deployment_id, (long long)ev->deployment_id);
}

void notify_msg_text(const struct notify_event *ev, struct strbuf *out)
{
	struct field f[MAX_FIELDS];
	struct strbuf hint = STRBUF_INIT;
	int n = fields_of(ev, f);

	strbuf_addf(out, "%s\n--------------------\n", notify_kind_title(ev->kind));
	for (int i = 0; i < n; i++)
		strbuf_addf(out, "%s: %s\n", f[i].label, f[i].value);
	decision_hint(ev, &hint);
	if (hint.len)
		strbuf_addf(out, "%s\n", hint.buf);
	strbuf_release(&hint);
}

json_t *notify_msg_slack(const struct notify_event *ev)
{
	struct field f[MAX_FIELDS];
	struct strbuf text = STRBUF_INIT, ctx = STRBUF_INIT, hint = STRBUF_INIT;
	char at[RFC3339_BUFSZ];
	int n = fields_of(ev, f);
	json_t *fields = json_array(), *blocks = json_array(), *body;

	notify_msg_text(ev, &text);
	for (int i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "*%s:*\n%s", f[i].label, f[i].value);
		json_array_append_new(fields, json_pack("{s:s, s:s}", "type", "mrkdwn", "text", sb.buf));
		strbuf_release(&sb);
	}
	json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "header", "text", "type",
						"plain_text", "text", notify_kind_title(ev->kind)));
	json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
	decision_hint(ev, &hint);
	if (hint.len)
		json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type",
							"mrkdwn", "text", hint.buf));
	strbuf_addf(&ctx, "%s", or_unknown(ev->env));
	if (ev->deployment_id > 0)
		strbuf_addf(&ctx, " · deployment %lld", (long long)ev->deployment_id);
	strbuf_addf(&ctx, " · %s · slipway", time_format_rfc3339(ev->at_ms, at));
	json_array_append_new(blocks, json_pack("{s:s, s:[{s:s, s:s}]}", "type", "context", "elements", "type",
						"mrkdwn", "text", ctx.buf));
	body = json_pack("{s:s, s:o}", "text", text.buf, "blocks", blocks);
	strbuf_release(&text);
	strbuf_release(&ctx);
	strbuf_release(&hint);
	return body;
}

const char *notify_cloudevent_type(const struct notify_event *ev)
{
	switch (ev->kind) {
	case NOTIFY_COMPLETE:
		return ev->from_version && *ev->from_version ? "dev.cdevents.service.upgraded.0.3.0"
							     : "dev.cdevents.service.deployed.0.3.0";
	case NOTIFY_EMERGENCY:
		return "dev.cdevents.service.deployed.0.3.0";
	case NOTIFY_ROLLBACK:
		return "dev.cdevents.service.rolledback.0.3.0";
	case NOTIFY_STARTING:
		return "dev.slipway.deployment.starting.v1";
	case NOTIFY_PAUSED:
		return "dev.slipway.deployment.paused.v1";
	case NOTIFY_FAILED:
		return "dev.slipway.deployment.failed.v1";
	case NOTIFY_FOLLOWUP:
		return "dev.slipway.deployment.followup.v1";
	case NOTIFY_TEST:
	default:
		return "dev.slipway.notification.test.v1";
	}
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

json_t *notify_event_to_json(const struct notify_event *ev)
{
	json_t *o = json_object();
	char at[RFC3339_BUFSZ];

	json_object_set_new(o, "kind", json_string(notify_kind_name(ev->kind)));
	json_object_set_new(o, "title", json_string(notify_kind_title(ev->kind)));
	if (ev->deployment_id > 0)
		json_object_set_new(o, "deployment_id", json_integer(ev->deployment_id));
	set_str(o, "service", ev->service);
	set_str(o, "env", ev->env);
	set_str(o, "version", ev->version);
	set_str(o, "from_version", ev->from_version);
	set_str(o, "owner", ev->owner);
	set_str(o, "reason", ev->reason);
	set_str(o, "approver", ev->approver);
	set_str(o, "status", ev->status ? ev->status : default_status[ev->kind < NOTIFY_KIND_COUNT ? ev->kind : 0]);
	json_object_set_new(o, "at", json_string(time_format_rfc3339(ev->at_ms, at)));
	json_object_set_new(o, "at_ms", json_integer(ev->at_ms));
	if (ev->duration_ms >= 0)
		json_object_set_new(o, "duration_ms", json_integer(ev->duration_ms));
	return o;
}

static const char *get_str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

int notify_event_from_json(json_t *j, struct notify_event *ev, struct strbuf *err)
{
	struct notify_event e = { .duration_ms = -1 };
	json_t *v;

	if (!json_is_object(j) || notify_kind_parse(get_str(j, "kind"), &e.kind)) {
		strbuf_errf(err, "queued message: missing or unknown \"kind\"");
		return SW_EPARSE;
	}
	e.deployment_id = json_integer_value(json_object_get(j, "deployment_id"));
	e.service = get_str(j, "service");
	e.env = get_str(j, "env");
	e.version = get_str(j, "version");
	e.from_version = get_str(j, "from_version");
	e.owner = get_str(j, "owner");
	e.reason = get_str(j, "reason");
	e.approver = get_str(j, "approver");
	e.status = get_str(j, "status");
	e.at_ms = json_integer_value(json_object_get(j, "at_ms"));
	if ((v = json_object_get(j, "duration_ms")) && json_is_integer(v))
		e.duration_ms = json_integer_value(v);
	*ev = e;
	return 0;
}

json_t *notify_msg_cloudevent(const struct notify_event *ev, const char *id, const char *source)
{
	struct strbuf src = STRBUF_INIT, purl = STRBUF_INIT, text = STRBUF_INIT;
	const char *type = notify_cloudevent_type(ev);
	const char *artifact_version = ev->kind == NOTIFY_ROLLBACK ? ev->from_version : ev->version;
	char at[RFC3339_BUFSZ];
	json_t *ce, *data, *subject, *slipway;

	if (source && *source)
		strbuf_addstr(&src, source);
	else
		strbuf_addf(&src, "/slipway/%s/%s", or_unknown(ev->env), or_unknown(ev->service));
	time_format_rfc3339(ev->at_ms, at);
	strbuf_addf(&purl, "pkg:generic/%s@%s", or_unknown(ev->service), or_unknown(artifact_version));
	subject = json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:s}, s:s}}", "id", or_unknown(ev->service), "source",
			    src.buf, "type", "service", "content", "environment", "id", or_unknown(ev->env),
			    "source", src.buf, "artifactId", purl.buf);
	notify_msg_text(ev, &text);
	slipway = notify_event_to_json(ev);
	json_object_set_new(slipway, "text", json_string(text.buf));
	data = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:o, s:o}", "context", "specversion", NOTIFY_CDEVENTS_SPEC,
			 "id", id, "source", src.buf, "type", type, "timestamp", at, "subject", subject, "slipway",
			 slipway);
	ce = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0", "id", id, "source",
		       src.buf, "type", type, "subject", or_unknown(ev->service), "time", at, "datacontenttype",
		       "application/json", "data", data);
	strbuf_release(&src);
	strbuf_release(&purl);
	strbuf_release(&text);
	return ce;
}
