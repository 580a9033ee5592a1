/*
 * test_records_store.c - the records' store modules against a real SQLite
 * store in a temporary directory: the audit chain and tampering, the
 * approval gate with its expiry audit, the emergency record, the incident
 * gate, the notification queue (file sink), and commit times from git.
 */
#include "store_fresh.h"
#include "tap.h"
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "adapters/deployment_store.h"
#include "adapters/dora_store.h"
#include "adapters/emergency.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "adapters/sql.h"
#include "adapters/store.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[] = "/tmp/slipway-records-XXXXXX";
static int64_t T0;

static void open_store(struct store *st, const char *sub)
{
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	strbuf_addf(&dir, "%s/%s", tmp, sub);
	store_fresh(dir.buf);
	ok(store_open(st, dir.buf, &err) == 0 && deployment_store_migrate(st, &err) == 0 &&
	   approvals_migrate(st, &err) == 0 && incidents_migrate(st, &err) == 0 && notify_migrate(st, &err) == 0,
	   "store %s opened and migrated %s", sub, err.buf);
	strbuf_release(&err);
	strbuf_release(&dir);
}

static int64_t count(struct store *st, const char *sql)
{
	struct sql_stmt *s = NULL;
	int64_t n = -1;
	if (sql_prepare(st, &s, sql, NULL) == 0 && sql_step(s, NULL) == SQL_ROW)
		n = sql_column_int64(s, 0);
	sql_finalize(s);
	return n;
}

static void add_deployment(struct store *st, int id, const char *type, const char *state)
{
	char sql[1024];
	/* one unfinished deployment per service and environment (deployment_store.c migration 3):
	 * each pending one here is in an environment of its own */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO deployments(id, service, env, version, revision, from_version, type, strategy, state,"
		 " requested_by, created_ms, state_since_ms) VALUES (%d, 'api-server', 'production%.*d', 'v1.2.%d', %d,"
		 " 'v1.2.0', '%s', 'canary', '%s', 'alice', %lld, %lld)",
		 id, id > 1 ? 1 : 0, id > 1 ? id : 0, id, id, type, state, (long long)T0, (long long)T0);
	ok(store_exec(st, sql, NULL) == 0, "deployment %d (%s) inserted", id, type);
}

static void test_audit(void)
{
	struct store st;
	struct strbuf err = STRBUF_INIT;
	struct audit_verify_result v;

	open_store(&st, "audit");
	for (int i = 0; i < 3; i++)
		ok(audit_append(&st, T0 + i, "alice", "test.entry", "thing:1", "{\"n\":1}", &err) == i + 1, "append %d", i + 1);
	is_int(audit_verify(&st, &v, &err), 0, "verify runs");
	ok(v.bad_id == 0 && v.entries == 3, "intact chain of 3");
	ok(store_exec(&st, "UPDATE audit SET actor = 'mallory' WHERE id = 2", NULL) != 0,
	   "the trigger refuses an UPDATE");
	ok(store_exec(&st, st.backend == STORE_BACKEND_PG ? "DROP TRIGGER audit_no_update ON audit; "
		      "UPDATE audit SET actor = 'mallory' WHERE id = 2" :
		      "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE id = 2", NULL) == 0,
	   "tampered with after dropping the trigger");
	audit_verify(&st, &v, &err);
	is_int(v.bad_id, 2, "verify names entry 2");
	ok(strstr(v.why, "changed") != NULL, "and says it was changed: %s", v.why);
	store_close(&st);

	open_store(&st, "audit-del");
	for (int i = 0; i < 3; i++)
		audit_append(&st, T0 + i, "alice", "test.entry", "thing:1", NULL, &err);
	ok(store_exec(&st, st.backend == STORE_BACKEND_PG ?
		      "DROP TRIGGER audit_no_delete ON audit; DELETE FROM audit WHERE id = 2" :
		      "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = 2", NULL) == 0, "deleted entry 2");
	audit_verify(&st, &v, &err);
	is_int(v.bad_id, 3, "verify names entry 3, after the gap");
	store_close(&st);
	strbuf_release(&err);
}

static void test_approvals(void)
{
	struct store st;
	struct strbuf err = STRBUF_INIT;
	const char *leads[] = { "alice", "bob" }, *vps[] = { "victor" };
	struct role_members roles[] = { { "team-lead", leads, 2 }, { "vp-engineering", vps, 1 } };
	const char *req[] = { "team-lead" }, *vreq[] = { "vp-engineering" };
	struct approval_set set;
	struct approval_gate g;
	struct emergency_record em;

	open_store(&st, "approvals");
	add_deployment(&st, 1, "standard", "pending");
	add_deployment(&st, 2, "standard", "pending");
	add_deployment(&st, 3, "emergency", "pending");
	add_deployment(&st, 4, "standard", "succeeded");

	is_int(approval_record(&st, 1, "team-lead", "alice", APPROVAL_APPROVED, NULL, NULL, roles, 2, T0, &err),
	       SW_EDENIED, "self-approval refused");
	strbuf_reset(&err);
	is_int(approval_record(&st, 1, "team-lead", "carol", APPROVAL_APPROVED, NULL, NULL, roles, 2, T0, &err),
	       SW_EDENIED, "non-member refused");
	strbuf_reset(&err);
	is_int(approval_record(&st, 4, "team-lead", "bob", APPROVAL_APPROVED, NULL, NULL, roles, 2, T0, &err),
	       SW_ESTATE, "a finished deployment is not approved");
	strbuf_reset(&err);
	is_int(approval_record(&st, 9, "team-lead", "bob", APPROVAL_APPROVED, NULL, NULL, roles, 2, T0, &err),
	       SW_ENOTFOUND, "no such deployment");
	strbuf_reset(&err);
	ok(approval_record(&st, 2, "team-lead", "bob", APPROVAL_APPROVED, NULL, NULL, roles, 2, T0, &err) > 0,
	   "bob approves deployment 2");
	is_int(approvals_gate(&st, 1, req, 1, roles, 2, MS_PER_DAY, T0, &set, &g, &err), 0, "gate of 1");
	is_int(g.n_missing, 1, "deployment 2's approval does not open 1");
	approval_gate_release(&g);
	approval_set_release(&set);
	ok(approval_record(&st, 1, "team-lead", "bob", APPROVAL_APPROVED, "lgtm", NULL, roles, 2, T0 + 1000, &err) > 0,
	   "bob approves deployment 1");
	approvals_gate(&st, 1, req, 1, roles, 2, MS_PER_DAY, T0 + 2000, &set, &g, &err);
	is_int(g.n_missing, 0, "gate of 1 open");
	approval_gate_release(&g);
	approval_set_release(&set);
	for (int i = 0; i < 2; i++) {
		approvals_gate(&st, 1, req, 1, roles, 2, MS_PER_DAY, T0 + 25 * MS_PER_HOUR, &set, &g, &err);
		ok(g.n_missing == 1 && g.missing[0].why == APPROVAL_WHY_EXPIRED, "after 25h: expired (pass %d)", i + 1);
		approval_gate_release(&g);
		approval_set_release(&set);
	}
	is_int(count(&st, "SELECT COUNT(*) FROM audit WHERE action = 'approval.expired' AND subject = 'deployment:1'"),
	       1, "the expiry is audited once");
	is_int(count(&st, "SELECT COUNT(*) FROM audit WHERE action = 'approval.refused'"), 2, "refusals audited");

	/* emergency record: reason required; vp approval fills the approver */
	is_int(emergency_check_reason("emergency", "  ", &err), SW_EUSAGE, "emergency without a reason refused");
	ok(strstr(err.buf, "--reason") != NULL, "the error names --reason");
	strbuf_reset(&err);
	is_int(emergency_check_reason("standard", "x", &err), SW_EUSAGE, "--reason only for emergencies");
	strbuf_reset(&err);
	is_int(emergency_check_reason("emergency", "CVE exploited", &err), 0, "emergency with a reason");
	is_int(emergency_record_create(&st, 3, "CVE exploited", "alice", T0, &err), 0, "emergency record created");
	is_int(emergency_record_create(&st, 3, "again", "alice", T0, &err), SW_ESTATE, "only one per deployment");
	strbuf_reset(&err);
	ok(approval_record(&st, 3, "vp-engineering", "victor", APPROVAL_APPROVED, NULL, NULL, roles, 2, T0 + 60000,
			   &err) > 0, "victor approves the emergency");
	is_int(emergency_record_get(&st, 3, &em, &err), 0, "emergency record read");
	ok(em.approver && !strcmp(em.approver, "victor") && em.approved_ms == T0 + 60000, "approver and time recorded");
	emergency_record_release(&em);
	approvals_gate(&st, 3, vreq, 1, roles, 2, MS_PER_HOUR, T0 + 120000, &set, &g, &err);
	is_int(g.n_missing, 0, "emergency gate open with vp-engineering");
	approval_gate_release(&g);
	approval_set_release(&set);
	is_int(emergency_record_end(&st, 3, "alice", T0 + MS_PER_HOUR, &err), 0, "monitoring ended");
	{
		struct audit_verify_result v;
		audit_verify(&st, &v, &err);
		is_int(v.bad_id, 0, "audit chain intact after all of it");
	}
	store_close(&st);
	strbuf_release(&err);
}

static void test_incidents(void)
{
	struct store st;
	struct strbuf err = STRBUF_INIT;
	int64_t *ids = NULL, id;
	size_t n = 0;

	open_store(&st, "incidents");
	is_int(incidents_gate(&st, "production", "standard", &ids, &n, &err), 0, "no incident: allowed");
	id = incident_open(&st, "db", "production", "primary down", "oncall", 0, T0, &err);
	ok(id > 0, "incident opened");
	is_int(incidents_gate(&st, "production", "standard", &ids, &n, &err), SW_EDENIED, "open incident blocks");
	ok(n == 1 && ids[0] == id, "and is named");
	ok(strstr(err.buf, "primary down") != NULL, "the reason names it: %s", err.buf);
	free(ids);
	strbuf_reset(&err);
	is_int(incidents_gate(&st, "staging", "standard", NULL, NULL, &err), 0, "another env is not blocked");
	is_int(incidents_gate(&st, "production", "emergency", NULL, NULL, &err), 0, "emergencies are not blocked");
	is_int(incident_resolve(&st, id, "oncall", T0 + MS_PER_HOUR, &err), 0, "resolved");
	is_int(incident_resolve(&st, id, "oncall", T0 + MS_PER_HOUR, &err), SW_ESTATE, "resolving twice refused");
	strbuf_reset(&err);
	is_int(incidents_gate(&st, "production", "standard", NULL, NULL, &err), 0, "allowed again");
	store_close(&st);
	strbuf_release(&err);
}

static void test_notify(void)
{
	struct store st;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, path = STRBUF_INIT;
	struct notify_config cfg;
	struct notify_deliver_stats s;
	struct notify_event ev = { .kind = NOTIFY_EMERGENCY, .deployment_id = 3, .service = "api-server",
				   .env = "production", .version = "v1.2.3", .reason = "CVE", .approver = "victor",
				   .at_ms = 0, .duration_ms = -1 };

	open_store(&st, "notify");
	strbuf_addf(&path, "%s/notify", tmp);
	notify_config_default(&cfg, path.buf);
	ev.at_ms = T0;
	ok(notify_enqueue(&st, &cfg, &ev, T0, &err) > 0, "emergency message queued");
	is_int(count(&st, "SELECT COUNT(*) FROM notify_deliveries"), 1, "both channels share one sink: one delivery");
	is_int(count(&st, "SELECT COUNT(*) FROM notify_messages WHERE channels = 'deployments,all-engineering'"), 1,
	       "to both channels");
	is_int(notify_deliver(&st, &cfg, T0, &s, &err), 0, "delivered");
	is_int(s.sent, 1, "one sent");
	strbuf_addstr(&path, "/notifications.log");
	is_int(strbuf_read_file_max(&text, path.buf, 1 << 20, &err), 0, "file sink written");
	ok(strstr(text.buf, "EMERGENCY DEPLOYMENT\n--------------------\nService: api-server") != NULL,
	   "the file holds the template");
	is_int(notify_deliver(&st, &cfg, T0, &s, &err), 0, "second pass");
	is_int(s.attempted, 0, "nothing left to send");
	is_int(notify_parse_retry_after(" 120 ", 0), 120000, "Retry-After seconds");
	is_int(notify_parse_retry_after("Thu, 01 Jan 1970 00:02:00 GMT", 60000), 60000, "Retry-After HTTP date");
	is_int(notify_parse_retry_after("soon", 0), -1, "unreadable Retry-After");
	notify_config_release(&cfg);
	store_close(&st);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&path);
}

static void test_commit_time(void)
{
	struct strbuf cmd = STRBUF_INIT, err = STRBUF_INIT;
	int64_t ms = 0;

	if (system("git --version >/dev/null 2>&1") != 0) {
		printf("ok %d - git commit time # SKIP git is not installed\n", ++tap_n_);
		return;
	}
	strbuf_addf(&cmd,
		    "cd %s && git init -q repo && cd repo && git -c user.name=t -c user.email=t@example.com commit -q"
		    " --allow-empty -m c && true", tmp);
	setenv("GIT_COMMITTER_DATE", "2026-11-02T10:00:00Z", 1);
	setenv("GIT_AUTHOR_DATE", "2026-11-02T10:00:00Z", 1);
	ok(system(cmd.buf) == 0, "a git repository with one commit");
	strbuf_reset(&cmd);
	strbuf_addf(&cmd, "%s/repo", tmp);
	is_int(commit_time_resolve(cmd.buf, "HEAD", &ms, &err), 0, "commit time of HEAD %s", err.buf);
	is_int(ms, 1793613600000LL, "is the committer date in ms");
	is_int(commit_time_resolve(cmd.buf, "--output=/tmp/x", &ms, &err), SW_EUSAGE, "an option is not a commit");
	strbuf_reset(&err);
	is_int(commit_time_resolve(cmd.buf, "0123456789abcdef", &ms, &err), SW_EEXTERNAL, "unknown commit");
	ok(err.len > 0, "git's message is passed on");
	strbuf_release(&cmd);
	strbuf_release(&err);
}

/* records_get(): the strategy's step count and when the current step's hold ends, read
 * from spec_json and engine_json (deployment_store.h), the hold shortened by the time scale */
static void hold_row(struct store *st, int id, const char *state, int step, double scale, const char *spec)
{
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO deployments(id, service, env, version, revision, type, strategy, state, step, weight,"
		 " requested_by, created_ms, state_since_ms, spec_json, engine_json, time_scale) VALUES (%d, 'svc%d',"
		 " 'production', 'v2', 1, 'standard', 'canary', '%s', %d, 10, 'alice', %lld, %lld, '%s',"
		 " '{\"step_since_ms\": %lld}', %g)",
		 id, id, state, step, (long long)T0, (long long)T0, spec, (long long)(T0 + 5000), scale);
	ok(store_exec(st, sql, NULL) == 0, "deployment %d (%s, step %d) inserted", id, state, step);
}

static void test_hold_until(void)
{
	static const char spec[] = "{\"strategy\": {\"steps\": [[0, 10.0, 3600000, 0, 0, 0], [0, 50.0, 600000, 0, 0, 0]]}}";
	struct store st;
	struct deployment_record d;
	struct strbuf err = STRBUF_INIT;

	open_store(&st, "hold");
	hold_row(&st, 1, "progressing", 1, 30, spec);
	hold_row(&st, 2, "progressing", 2, 1, spec);
	hold_row(&st, 3, "paused", 1, 1, spec);
	hold_row(&st, 4, "progressing", 0, 1, spec);
	hold_row(&st, 5, "progressing", 1, 1, "not json");
	memset(&d, 0, sizeof(d));
	ok(records_get(&st, 1, &d, &err) == 0, "read deployment 1");
	is_int(d.n_steps, 2, "two steps");
	is_int(d.hold_until_ms, T0 + 5000 + 120000, "step 1's hold of 1h at 30x ends 2 min after the step began");
	deployment_record_release(&d);
	records_get(&st, 2, &d, &err);
	is_int(d.hold_until_ms, T0 + 5000 + 600000, "step 2's own hold (10m) at 1x");
	deployment_record_release(&d);
	records_get(&st, 3, &d, &err);
	is_int(d.hold_until_ms, RECORD_TIME_NONE, "paused: no hold running");
	is_int(d.n_steps, 2, "  but its steps known");
	deployment_record_release(&d);
	records_get(&st, 4, &d, &err);
	is_int(d.hold_until_ms, RECORD_TIME_NONE, "the warm-up (step 0): no step hold");
	deployment_record_release(&d);
	ok(records_get(&st, 5, &d, &err) == 0, "a spec that is not JSON still reads");
	is_int(d.n_steps, 0, "  with no steps known");
	is_int(d.hold_until_ms, RECORD_TIME_NONE, "  and no hold");
	deployment_record_release(&d);
	store_close(&st);
	strbuf_release(&err);
}

int main(void)
{
	struct strbuf rm = STRBUF_INIT;
	int r;

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	time_parse_rfc3339("2026-12-03T15:00:00Z", &T0, NULL);
	test_audit();
	test_approvals();
	test_incidents();
	test_notify();
	test_commit_time();
	test_hold_until();
	strbuf_addf(&rm, "rm -rf %s", tmp);
	r = system(rm.buf);
	(void)r;
	strbuf_release(&rm);
	return tap_done();
}
