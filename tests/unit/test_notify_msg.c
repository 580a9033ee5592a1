/*
 * test_notify_msg.c - the runbook's message templates, exactly, and the
 * Slack and CloudEvents shapes (core/notify_msg.h).
 */
#include "tap.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "core/notify_msg.h"

static int64_t t(const char *s)
{
	int64_t ms = 0;
	time_parse_rfc3339(s, &ms, NULL);
	return ms;
}

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct notify_event ev = {
		.kind = NOTIFY_STARTING, .deployment_id = 12, .service = "api-server", .env = "production",
		.version = "v1.2.3", .from_version = "v1.2.2", .owner = "alice", .at_ms = t("2026-12-03T14:05:31Z"),
		.duration_ms = 45 * 60 * 1000,
	};
	json_t *j, *back;
	struct notify_event ev2;

	notify_msg_text(&ev, &sb);
	is_str(sb.buf, "DEPLOYMENT STARTING\n--------------------\nService: api-server\nVersion: v1.2.3\n"
		       "Time: 14:05 UTC\nOwner: @alice\n", "DEPLOYMENT STARTING as the runbook's step 1");
	strbuf_reset(&sb);
	ev.kind = NOTIFY_COMPLETE;
	notify_msg_text(&ev, &sb);
	is_str(sb.buf, "DEPLOYMENT COMPLETE\n--------------------\nService: api-server\nVersion: v1.2.3\n"
		       "Duration: 45 minutes\nStatus: SUCCESS\n", "DEPLOYMENT COMPLETE as the runbook's step 5");
	strbuf_reset(&sb);
	ev.kind = NOTIFY_ROLLBACK;
	ev.reason = "error rate 6.2% > 5% (immediate rollback criterion)";
	notify_msg_text(&ev, &sb);
	is_str(sb.buf, "ROLLBACK INITIATED\n--------------------\nService: api-server\nFrom: v1.2.3\nTo: v1.2.2\n"
		       "Reason: error rate 6.2% > 5% (immediate rollback criterion)\nOwner: @alice\nStatus: IN PROGRESS\n",
	       "ROLLBACK INITIATED as the runbook's Rollback Notification");
	strbuf_reset(&sb);
	ev.kind = NOTIFY_EMERGENCY;
	ev.reason = "CVE-2026-1234 exploited";
	ev.approver = "victor";
	notify_msg_text(&ev, &sb);
	is_str(sb.buf, "EMERGENCY DEPLOYMENT\n--------------------\nService: api-server\nVersion: v1.2.3\n"
		       "Reason: CVE-2026-1234 exploited\nApproved by: victor\nStatus: DEPLOYED\n",
	       "EMERGENCY DEPLOYMENT as the runbook's Emergency Deployments");
	strbuf_reset(&sb);
	ev.kind = NOTIFY_PAUSED;
	ev.reason = "p99 2.2x baseline (consider rollback)";
	notify_msg_text(&ev, &sb);
	ok(strstr(sb.buf, "DEPLOYMENT PAUSED\n") == sb.buf, "paused title");
	ok(strstr(sb.buf, "Status: WAITING FOR A DECISION\nDecide: slipway promote 12 | slipway abort 12\n") != NULL,
	   "paused says how to decide");
	strbuf_reset(&sb);
	ev.kind = NOTIFY_FAILED;
	ev.approver = NULL;
	ev.owner = NULL;
	notify_msg_text(&ev, &sb);
	ok(strstr(sb.buf, "Owner: @unknown\nStatus: FAILED\n") != NULL, "a missing field says unknown");

	strbuf_reset(&sb);
	notify_format_duration(65 * 60 * 1000, &sb);
	is_str(sb.buf, "1 hour 5 minutes", "duration 65 min");
	strbuf_reset(&sb);
	notify_format_duration(30 * 1000, &sb);
	is_str(sb.buf, "30 seconds", "duration 30 s");

	ev.kind = NOTIFY_COMPLETE;
	ev.owner = "alice";
	j = notify_msg_slack(&ev);
	ok(json_is_string(json_object_get(j, "text")), "slack has text");
	is_str(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(j, "blocks"), 0), "text"), "text")),
	       "DEPLOYMENT COMPLETE", "slack header block");
	json_decref(j);

	j = notify_msg_cloudevent(&ev, "slipway-msg-1", NULL);
	is_str(json_string_value(json_object_get(j, "specversion")), "1.0", "cloudevents 1.0");
	is_str(json_string_value(json_object_get(j, "type")), "dev.cdevents.service.upgraded.0.3.0", "upgraded");
	is_str(json_string_value(json_object_get(j, "source")), "/slipway/production/api-server", "default source");
	is_str(json_string_value(json_object_get(j, "time")), "2026-12-03T14:05:31Z", "time");
	json_decref(j);
	ev.from_version = NULL;
	is_str(notify_cloudevent_type(&ev), "dev.cdevents.service.deployed.0.3.0", "first deployment: deployed");

	j = notify_event_to_json(&ev);
	is_int(notify_event_from_json(j, &ev2, NULL), 0, "event round-trips through JSON");
	ok(ev2.kind == ev.kind && ev2.deployment_id == 12 && ev2.at_ms == ev.at_ms && ev2.duration_ms == ev.duration_ms &&
	   !strcmp(ev2.service, "api-server"), "round-trip keeps the fields");
	json_decref(j);
	back = json_pack("{s:s}", "kind", "nonsense");
	ok(notify_event_from_json(back, &ev2, NULL) < 0, "unknown kind refused");
	json_decref(back);
	strbuf_release(&sb);
	return tap_done();
}
