/* test_gate.c - the controller's policy gate over the runbook's calendar. */
#include "store_fresh.h"
#include "tap.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "controller/gate.h"
#include "core/deployment.h"
#include "core/policy.h"
#include "core/tz.h"
#include "core/strategy.h"
#include "adapters/approvals.h"
#include "adapters/audit.h"
#include "base/err.h"
#include "adapters/deployment_store.h"
#include "adapters/incidents.h"
#include "adapters/store.h"
#include "adapters/checklist_store.h"
#include "adapters/db_store.h"
#include "adapters/db_tools.h"
#include "adapters/flag_store.h"
#include "core/service.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t at(const char *s)
{
	int64_t ms = 0;
	time_parse_rfc3339(s, &ms, NULL);
	return ms;
}

static enum gate_result ask(struct policy_gate *g, const char *type, const char *cls, enum gate_phase ph,
			    const char *when, struct strbuf *reason)
{
	struct deployment d;
	deployment_init(&d, "api-server", "production", "v2", "v1", type, at(when));
	snprintf(d.change_class, sizeof(d.change_class), "%s", cls);
	strbuf_reset(reason);
	return policy_gate_check(g, &d, ph, at(when), reason);
}

/* A fake "rollback possible" proof: the previous release is gone while *gone is set. */
static int fake_rollback(void *ctx, const char *service, const char *from_version, struct strbuf *ev)
{
	if (*(int *)ctx) {
		strbuf_addf(ev, "the release directory of %s %s is gone", service, from_version);
		return SW_EDENIED;
	}
	strbuf_addf(ev, "release %s present", from_version);
	return 0;
}

/* A fake stable revision for "production health": *mode 0 no traffic, 1 7% errors, 2 p99 4x the earlier, 3 healthy. */
static int fake_health(void *ctx, const char *service, const char *version, struct metrics_sample *recent,
		       struct metrics_sample *earlier, struct strbuf *err)
{
	int mode = *(int *)ctx;
	(void)service;
	(void)version;
	(void)err;
	if (!mode)
		return 0;
	recent->requests = 1000;
	recent->errors = mode == 1 ? 70 : 2;
	recent->p99_ms = mode == 2 ? 400 : 110;
	earlier->requests = 15000;
	earlier->errors = 20;
	earlier->p99_ms = 100;
	return 0;
}

/* The checklists at the gate (docs/checklists.md): blocking items hold a standard deployment. */
static void test_checklists(const struct tz_zone *utc)
{
	static const char pol[] = "roles:\n  team-lead: [bob]\ntypes:\n  standard: { approvals: [] }\n"
				  "checklists:\n  ci-passing: { blocks: [standard] }\n"
				  "  rollback-possible: { blocks: [standard] }\n"
				  "  production-health: { blocks: [standard] }\n"
				  "  load-test: { list: pre-deployment, text: \"Load test passed\", check: attest, who: automation }\n";
	char dir[] = "/tmp/slipway-gate-cl.XXXXXX";
	struct store st = { 0 };
	struct strategy *strat = calloc(1, sizeof(*strat));
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	struct policy q;
	struct policy_gate g;
	struct deployment d;
	int64_t thu = at("2026-12-03T15:00:00Z");
	int gone = 1, health = 0;

	ok(mkdtemp(dir) != NULL, "checklists: temporary store directory");
	is_int(policy_load(&q, pol, sizeof(pol) - 1, "cl.yaml", NULL, &err), 0, "checklists policy: %s", err.buf);
	store_fresh(dir);
	ok(store_open(&st, dir, &err) == 0 && deployment_store_migrate(&st, &err) == 0, "store: %s", err.buf);
	is_int(policy_gate_init(&g, &q, utc, &st, &err), 0, "gate init migrates the checklist module");
	g.rollback_fn = fake_rollback;
	g.rollback_ctx = &gone;
	g.health_fn = fake_health;
	g.health_ctx = &health;
	strategy_default(strat, STRATEGY_CANARY);
	deployment_init(&d, "api-server", "production", "v2", "v1", "standard", thu);
	snprintf(d.requested_by, sizeof(d.requested_by), "alice");
	is_int(deployment_store_create(&st, &d, strat, &err), 0, "create a standard deployment");
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu, &reason), GATE_WAIT, "waits for its checklist");
	ok(strstr(reason.buf, "ci-passing (missing)") != NULL, "names the missing attestation: %s", reason.buf);
	ok(strstr(reason.buf, "rollback-possible (failed: the release directory of api-server v1 is gone)") != NULL,
	   "rollback possible fails when the previous release directory is gone");
	ok(strstr(reason.buf, "production-health (unchecked)") != NULL,
	   "no traffic on the stable: production health unchecked, never a pass: %s", reason.buf);
	health = 1;
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 500, &reason), GATE_WAIT, "an unhealthy stable holds it");
	ok(strstr(reason.buf, "production-health (failed: v1 over the last 60s: 1000 requests, 7.00% errors (limit 5%)") !=
		   NULL,
	   "the stable's error rate above the immediate limit fails production health: %s", reason.buf);
	health = 2;
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 600, &reason), GATE_WAIT, "a slow stable holds it");
	ok(strstr(reason.buf, "p99 400ms (limit 3x the earlier 100ms = 300ms)") != NULL,
	   "the stable's p99 above 3x its earlier p99 fails production health: %s", reason.buf);
	health = 3;
	gone = 0;
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 1000, &reason), GATE_WAIT, "still waiting for CI");
	ok(strstr(reason.buf, "rollback-possible") == NULL, "the release is back: rollback is possible: %s", reason.buf);
	{
		struct attest_request rq = { .deployment_id = d.id, .item = "ci-passing", .evidence = "https://ci/1",
					     .actor = "ci-bot", .identity = "token:1", .now_ms = thu + 2000 };
		ok(checklist_attest(&st, &q, &rq, NULL, NULL, &err) > 0, "CI attests: %s", err.buf);
		rq.item = "load-test";
		rq.identity = "os";
		rq.actor = "alice";
		strbuf_reset(&err);
		is_int((int)checklist_attest(&st, &q, &rq, NULL, NULL, &err), SW_EDENIED,
		       "a person cannot tick an item whose who: is automation");
		ok(strstr(err.buf, "item 'load-test' is ticked by automation only (who: automation), not by a person ('alice')") !=
			   NULL,
		   "and is told why: %s", err.buf);
		rq.identity = "token:1";
		rq.actor = "ci-bot";
		ok(checklist_attest(&st, &q, &rq, NULL, NULL, &err) > 0, "an API token ticks it: %s", err.buf);
	}
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, thu + 3000, &reason), GATE_ALLOW,
	       "every blocking item satisfied: starts: %s", reason.buf);
	policy_gate_release(&g);
	store_close(&st);
	policy_release(&q);
	free(strat);
	strbuf_release(&reason);
	strbuf_release(&err);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
}

/* ---- the proofs that read the release, the flag store, the rehearsals, a dashboard and GitHub ---- */

/* What the HTTP server on 127.0.0.1 answers: a dashboard, and GitHub's recorded answers (tests/data/github/). */
static struct {
	int dash_status;
	const char *status, *checks, *pulls, *reviews;	/* file names under tests/data/github */
	int requests, unauthorized;
} srv;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *src = getenv("SLIPWAY_SRC"), *file = NULL;
	struct MHD_Response *resp;
	char path[1024], *body = NULL;
	unsigned code = 200;
	size_t len = 0;
	enum MHD_Result ret;
	(void)cls, (void)method, (void)version, (void)upload, (void)upload_len, (void)con_cls;

	__atomic_add_fetch(&srv.requests, 1, __ATOMIC_SEQ_CST);
	if (!strcmp(url, "/dash")) {
		code = (unsigned)srv.dash_status;
	} else if (!auth || strcmp(auth, "Bearer sekrit-test-token")) {
		code = 401;
		__atomic_add_fetch(&srv.unauthorized, 1, __ATOMIC_SEQ_CST);
	} else if (strstr(url, "/repos/acme/api-server/commits/") == url && strstr(url, "/status")) {
		file = srv.status;
	} else if (strstr(url, "/repos/acme/api-server/commits/") == url && strstr(url, "/check-runs")) {
		file = srv.checks;
	} else if (strstr(url, "/repos/acme/api-server/commits/") == url && strstr(url, "/pulls")) {
		file = srv.pulls;
	} else if (!strcmp(url, "/repos/acme/api-server/pulls/42/reviews")) {
		file = srv.reviews;
	} else {
		code = 404;
	}
	if (file) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/tests/data/github/%s", src ? src : ".", file);
		if ((f = fopen(path, "rb"))) {
			body = malloc(1 << 16);
			len = fread(body, 1, 1 << 16, f);
			fclose(f);
		} else {
			code = 500;
		}
	}
	resp = MHD_create_response_from_buffer(len, body ? body : (void *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

struct rel_ctx {
	const char *project;
	const struct service *svc;
};

static int read_release(void *ctx, const char *service, const char *version, struct checklist_release *out,
			struct strbuf *err)
{
	struct rel_ctx *rc = ctx;
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/releases/%s/%s", rc->project, service, version);
	return checklist_release_read(rc->project, rc->svc, dir, out, err);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w"))) {
		fputs(text, f);
		fclose(f);
	}
}

/* The evidence of item in deployment id's checklist (a new string), or NULL. */
static char *evidence_of(struct store *st, const struct policy *p, int64_t id, const char *version, const char *item,
			 const char **state)
{
	struct checklist_view v;
	struct strbuf err = STRBUF_INIT;
	char *out = NULL;

	*state = "?";
	if (checklist_view_build(st, p, id, version, "standard", &v, &err) == 0) {
		for (size_t i = 0; i < v.n; i++)
			if (!strcmp(v.v[i].item->id, item)) {
				out = v.v[i].evidence ? strdup(v.v[i].evidence) : NULL;
				*state = checklist_state_name(v.v[i].state);
			}
		checklist_view_release(&v);
	}
	strbuf_release(&err);
	return out;
}

static void expect_item(struct store *st, const struct policy *p, int64_t id, const char *version, const char *item,
			const char *want_state, const char *want_ev, const char *what)
{
	const char *state;
	char *ev = evidence_of(st, p, id, version, item, &state);
	is_str(state, want_state, "%s: %s is %s", what, item, want_state);
	ok(ev && strstr(ev, want_ev) != NULL, "%s: %s says '%s': %s", what, item, want_ev, ev ? ev : "(none)");
	ok(!ev || !strstr(ev, "sekrit"), "%s: the token is never in the evidence", what);
	free(ev);
}

static void test_release_proofs(const struct tz_zone *utc)
{
	static const char pol[] = "types:\n  standard: { approvals: [] }\n"
				  "checklists:\n  feature-flags: { blocks: [standard] }\n"
				  "  migrations-tested: { blocks: [standard] }\n"
				  "  dashboards-accessible: { blocks: [standard] }\n"
				  "  ci-passing: { blocks: [standard] }\n"
				  "  review-approved: { blocks: [standard] }\n";
	static const char db_file[] = "engine: pg\nproject: db/app\nservices: [api-server]\n"
				      "targets:\n  production: {url_env: APP_DATABASE_URL}\n  staging: {url_env: APP_STAGING_URL}\n";
	char dir[] = "/tmp/slipway-gate-proofs.XXXXXX", path[1200], svc_yaml[1024], sqitch[1200], sha[65] = "";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct MHD_Daemon *mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
						  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	const union MHD_DaemonInfo *info = mhd ? MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	int port = info ? info->port : 0;
	struct store st = { 0 };
	struct strategy *strat = calloc(1, sizeof(*strat));
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	struct service svc = { 0 };
	struct policy q;
	struct policy_gate g;
	struct deployment d, e;
	struct rel_ctx rc;
	int64_t t = at("2026-12-03T15:00:00Z");

	ok(port > 0, "an HTTP server on 127.0.0.1:%d stands in for the dashboard and GitHub", port);
	ok(mkdtemp(dir) != NULL, "proofs: a project and store directory");
	for (const char *const *sub = (const char *const[]){ "releases", "releases/api-server", "releases/api-server/v2",
							     "releases/api-server/v3", "releases/api-server/v4",
							     "databases", "db", "db/app", "db/app/deploy", NULL };
	     *sub; sub++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *sub);
		mkdir(path, 0755);
	}
	write_file(dir, "releases/api-server/v2/slipway-release.yaml",
		   "flags: [agent:billing:enabled]\nmigrations:\n  app: items\n");
	write_file(dir, "releases/api-server/v4/slipway-release.yaml", "flags: []\nmigrations: {}\n");
	write_file(dir, "databases/app.yaml", db_file);
	write_file(dir, "db/app/sqitch.plan", "%syntax-version=1.0.0\n%project=app\n\n"
					      "items 2026-11-01T10:00:00Z ci <ci@example.invalid> # the items table\n");
	write_file(dir, "db/app/deploy/items.sql", "CREATE TABLE items (id int);\n");
	snprintf(svc_yaml, sizeof(svc_yaml),
		 "command: [server]\ndashboards: [\"http://viewer:s3cret@127.0.0.1:%d/dash\"]\n"
		 "github: {repo: acme/api-server, api: \"http://127.0.0.1:%d\", token_env: SLIPWAY_TEST_GITHUB_TOKEN}\n"
		 "environments:\n  production: {listen: 127.0.0.1:18080}\n", port, port);
	is_int(service_parse(&svc, "api-server.yaml", svc_yaml, strlen(svc_yaml), "api-server", &err), 0,
	       "a service file with dashboards: and github: %s", err.buf);
	is_int(policy_load(&q, pol, sizeof(pol) - 1, "proofs.yaml", NULL, &err), 0, "policy: %s", err.buf);
	store_fresh(dir);
	ok(store_open(&st, dir, &err) == 0 && deployment_store_migrate(&st, &err) == 0, "store: %s", err.buf);
	is_int(policy_gate_init(&g, &q, utc, &st, &err), 0, "gate init migrates the flags and databases modules: %s", err.buf);
	rc.project = dir;
	rc.svc = &svc;
	g.release_fn = read_release;
	g.release_ctx = &rc;
	strategy_default(strat, STRATEGY_CANARY);
	deployment_init(&d, "api-server", "production", "v2", "v1", "standard", t);
	is_int(deployment_store_create(&st, &d, strat, &err), 0, "create a standard deployment of v2");
	ok(store_exec(&st, "UPDATE deployments SET commit_sha = '9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b1d'", NULL) == 0,
	   "its commit, as 'deploy --commit' records it");

	/* 1: nothing in place, no token */
	unsetenv("SLIPWAY_TEST_GITHUB_TOKEN");
	srv.dash_status = 503;
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, t, &reason), GATE_WAIT, "nothing in place: waits");
	ok(strstr(reason.buf, "feature-flags (failed: 1 of the 1 flags release v2 declares is not in production: "
			      "'agent:billing:enabled'") != NULL, "names the flag missing in the environment: %s", reason.buf);
	ok(strstr(reason.buf, "migrations-tested (failed: no passing rehearsal of 'items' on app with this plan") != NULL,
	   "no rehearsal of the release's change: %s", reason.buf);
	ok(strstr(reason.buf, "dashboards-accessible (failed: http://viewer:***@127.0.0.1:") &&
		   strstr(reason.buf, "/dash answered 503"),
	   "a dashboard answering 503 is not accessible, named without its password: %s", reason.buf);
	ok(!strstr(reason.buf, "s3cret"), "the dashboard's password is never in the reason");
	expect_item(&st, &q, d.id, "v2", "dashboards-accessible", "failed", "http://viewer:***@127.0.0.1:",
		    "the stored evidence names the dashboard without its password");
	expect_item(&st, &q, d.id, "v2", "ci-passing", "unchecked", "GitHub: no token in $SLIPWAY_TEST_GITHUB_TOKEN",
		    "no token");
	is_int(srv.requests - srv.unauthorized, 1, "without a token GitHub is not asked (only the dashboard was)");

	/* 2: flag created, change rehearsed with this plan, dashboard up; GitHub: CI pending, changes requested */
	{
		json_t *def = json_pack("{s:s}", "type", "boolean");
		int changed = 0;
		ok(flag_store_put(&st, "production", FLAG_KIND_FLAG, "agent:billing:enabled", def, FLAG_PUT_CREATE, "alice",
				  NULL, t, &changed, NULL, 0, &err) > 0, "create the flag in production: %s", err.buf);
		json_decref(def);
	}
	{
		struct db_rehearsal x = { 0 };
		snprintf(sqitch, sizeof(sqitch), "%s/db/app", dir);
		is_int(db_plan_sha256(sqitch, sha, &err), 0, "the plan's hash: %s", err.buf);
		snprintf(x.database, sizeof(x.database), "app");
		snprintf(x.env, sizeof(x.env), "staging");
		snprintf(x.to_change, sizeof(x.to_change), "items");
		snprintf(x.plan_sha256, sizeof(x.plan_sha256), "%s", sha);
		x.ok = 1;
		x.created_ms = t - 3600000;
		ok(db_store_add_rehearsal(&st, &x, &err) >= 0, "a passing rehearsal of items in staging: %s", err.buf);
	}
	srv.dash_status = 302;
	setenv("SLIPWAY_TEST_GITHUB_TOKEN", "sekrit-test-token", 1);
	srv.status = "status-pending.json";
	srv.checks = "checks-success.json";
	srv.pulls = "pulls-one.json";
	srv.reviews = "reviews-changes.json";
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, t + 31000, &reason), GATE_WAIT, "CI pending: still waits");
	ok(!strstr(reason.buf, "feature-flags") && !strstr(reason.buf, "migrations-tested") &&
		   !strstr(reason.buf, "dashboards-accessible"),
	   "flags in place, migrations rehearsed, a dashboard answering 302 is accessible: %s", reason.buf);
	ok(strstr(reason.buf, "review-approved (failed: GitHub: changes requested on #42 by 'carol')") != NULL,
	   "GitHub's reviews: a reviewer asks for changes: %s", reason.buf);
	ok(!strstr(reason.buf, "sekrit"), "the token is never in the reason");
	expect_item(&st, &q, d.id, "v2", "ci-passing", "missing", "GitHub: 1 pending on 9f2c4e1a7b3d: 'ci/unit'",
		    "CI pending");
	expect_item(&st, &q, d.id, "v2", "feature-flags", "satisfied", "exist in production: agent:billing:enabled",
		    "flag created");
	expect_item(&st, &q, d.id, "v2", "migrations-tested", "satisfied", "to 'items' passed in staging",
		    "rehearsed");
	is_int(srv.unauthorized, 0, "every GitHub request carried the token");

	/* 3: GitHub says green and approved */
	srv.status = "status-success.json";
	srv.reviews = "reviews-approved.json";
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, t + 45000, &reason), GATE_WAIT,
	       "GitHub is asked again only after 30 s: %s", reason.buf);
	strbuf_reset(&reason);
	is_int(policy_gate_check(&g, &d, GATE_PHASE_START, t + 62000, &reason), GATE_ALLOW,
	       "CI green and the review approved on GitHub: starts: %s", reason.buf);
	expect_item(&st, &q, d.id, "v2", "review-approved", "satisfied", "pull request #42 (with 9f2c4e1a7b3d) approved by 'bob'",
		    "approved");
	{
		const char *state;
		struct attest_request rq = { .deployment_id = d.id, .item = "review-approved", .status = "fail",
					     .evidence = "https://review/1", .actor = "bob", .identity = "os",
					     .now_ms = t + 70000 };
		char *ev;
		ok(checklist_attest(&st, &q, &rq, NULL, NULL, &err) > 0, "a newer attestation: %s", err.buf);
		ev = evidence_of(&st, &q, d.id, "v2", "review-approved", &state);
		is_str(state, "failed", "the newer of GitHub's answer and an attestation is the item's word");
		free(ev);
	}

	/* 4: a release without a manifest, then one declaring none, then a service without a database */
	ok(store_exec(&st, "UPDATE deployments SET state = 'failed'", NULL) == 0, "v2 steps aside");
	deployment_init(&e, "api-server", "production", "v3", "v2", "standard", t);
	is_int(deployment_store_create(&st, &e, strat, &err), 0, "a deployment of v3, whose release has no manifest");
	strbuf_reset(&reason);
	policy_gate_check(&g, &e, GATE_PHASE_START, t + 100000, &reason);
	expect_item(&st, &q, e.id, "v3", "feature-flags", "unchecked", "release v3 has no slipway-release.yaml declaring its flags",
		    "no manifest");
	expect_item(&st, &q, e.id, "v3", "migrations-tested", "unchecked", "api-server uses database 'app'", "no manifest");
	expect_item(&st, &q, e.id, "v3", "ci-passing", "unchecked", "deployment 2 has no commit to ask about", "no commit");
	write_file(dir, "releases/api-server/v3/slipway-release.yaml", "flags: [ok]\nmigrations: [app]\n");
	strbuf_reset(&reason);
	policy_gate_check(&g, &e, GATE_PHASE_START, t + 200000, &reason);
	expect_item(&st, &q, e.id, "v3", "feature-flags", "failed", "slipway-release.yaml:2:1: migrations must be a mapping",
		    "a bad manifest is a failure with its position");
	ok(store_exec(&st, "UPDATE deployments SET state = 'failed'", NULL) == 0, "v3 steps aside");
	deployment_init(&e, "api-server", "production", "v4", "v2", "standard", t);
	is_int(deployment_store_create(&st, &e, strat, &err), 0, "a deployment of v4, which declares none");
	strbuf_reset(&reason);
	policy_gate_check(&g, &e, GATE_PHASE_START, t + 300000, &reason);
	expect_item(&st, &q, e.id, "v4", "feature-flags", "satisfied", "not applicable: release v4 declares no flags",
		    "flags: []");
	expect_item(&st, &q, e.id, "v4", "migrations-tested", "satisfied",
		    "not applicable: release v4 changes no database (migrations: {}", "migrations: {}");
	write_file(dir, "databases/app.yaml", "engine: pg\nproject: db/app\nservices: [web]\n"
					      "targets:\n  production: {url_env: A}\n  staging: {url_env: B}\n");
	write_file(dir, "releases/api-server/v4/slipway-release.yaml", "flags: []\n");
	strbuf_reset(&reason);
	policy_gate_check(&g, &e, GATE_PHASE_START, t + 400000, &reason);
	expect_item(&st, &q, e.id, "v4", "migrations-tested", "satisfied",
		    "not applicable: api-server has no database (no databases/*.yaml lists it", "no database");
	write_file(dir, "releases/api-server/v4/slipway-release.yaml", "migrations: {app: items}\n");
	strbuf_reset(&reason);
	policy_gate_check(&g, &e, GATE_PHASE_START, t + 500000, &reason);
	expect_item(&st, &q, e.id, "v4", "migrations-tested", "failed",
		    "declares a change to database 'app', whose databases/app.yaml does not list api-server", "not its database");
	expect_item(&st, &q, e.id, "v4", "feature-flags", "unchecked", "does not say flags: (write flags: [] when",
		    "flags not said");

	/* 5: a dashboard and GitHub on a socket that accepts and never answers (a user's finding): the
	 * evaluation's probes share a budget (docs/checklists.md); what runs out of it is unchecked, saying so */
	{
		struct sockaddr_in ss = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(ss);
		int fd = socket(AF_INET, SOCK_STREAM, 0), silent = 0;
		struct service svc2 = { 0 };
		if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, sizeof(ss)) == 0 && listen(fd, 16) == 0 &&
		    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			silent = ntohs(ss.sin_port);
		ok(silent > 0, "a socket on 127.0.0.1:%d that accepts and never answers", silent);
		snprintf(svc_yaml, sizeof(svc_yaml),
			 "command: [server]\ndashboards: [\"http://127.0.0.1:%d/stuck\", \"http://127.0.0.1:%d/dash\"]\n"
			 "github: {repo: acme/api-server, api: \"http://127.0.0.1:%d\", token_env: SLIPWAY_TEST_GITHUB_TOKEN,"
			 " timeout: 1m}\n"
			 "environments:\n  production: {listen: 127.0.0.1:18080}\n", silent, port, silent);
		is_int(service_parse(&svc2, "api-server.yaml", svc_yaml, strlen(svc_yaml), "api-server", &err), 0,
		       "a service file whose first dashboard and GitHub never answer, github.timeout 1m: %s", err.buf);
		rc.svc = &svc2;
		setenv("SLIPWAY_TEST_GITHUB_TOKEN", "sekrit-test-token", 1);
		srv.dash_status = 302;
		ok(store_exec(&st, "UPDATE deployments SET commit_sha = '9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b1d'",
			      NULL) == 0, "v4 has a commit to ask GitHub about");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&g, &e, GATE_PHASE_START, t + 600000, &reason), GATE_WAIT,
		       "the gate evaluation returns and waits: %s", reason.buf);
		expect_item(&st, &q, e.id, "v4", "dashboards-accessible", "unchecked", "/stuck: no answer within",
			    "a dashboard that never answers");
		expect_item(&st, &q, e.id, "v4", "dashboards-accessible", "unchecked", "the gate's probe budget",
			    "its evidence names the budget");
		expect_item(&st, &q, e.id, "v4", "dashboards-accessible", "unchecked", "/dash answered 302",
			    "the dashboard asked beside it still got its answer");
		expect_item(&st, &q, e.id, "v4", "ci-passing", "unchecked", "the gate's probe budget",
			    "GitHub never answering, with timeout: 1m");
		expect_item(&st, &q, e.id, "v4", "review-approved", "unchecked", "the gate's probe budget",
			    "the GitHub item probed after it");
		ok(strstr(reason.buf, "dashboards-accessible (unchecked") && strstr(reason.buf, "ci-passing (unchecked"),
		   "the reason names them unchecked, not failed: %s", reason.buf);
		strbuf_reset(&reason);
		is_int(policy_gate_check(&g, &e, GATE_PHASE_START, t + 610000, &reason), GATE_WAIT,
		       "within 30 s they are not probed again: %s", reason.buf);
		expect_item(&st, &q, e.id, "v4", "dashboards-accessible", "unchecked", "/stuck: no answer within",
			    "the finding stays until the next probe");
		rc.svc = &svc;
		if (fd >= 0)
			close(fd);
		service_release(&svc2);
	}

	unsetenv("SLIPWAY_TEST_GITHUB_TOKEN");
	MHD_stop_daemon(mhd);
	policy_gate_release(&g);
	store_close(&st);
	policy_release(&q);
	service_release(&svc);
	free(strat);
	strbuf_release(&reason);
	strbuf_release(&err);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
}

int main(void)
{
	struct policy p, q;
	struct tz_zone utc;
	struct policy_gate g = { 0 };
	struct strbuf reason = STRBUF_INIT, err = STRBUF_INIT;
	static const char rollback_policy[] = "on_window_close: rollback\n";
	static const char continue_policy[] = "on_window_close: continue\n";

	policy_init_default(&p);
	tz_zone_fixed(&utc, 0);
	g.policy = &p;
	g.zone = &utc;

	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-03T15:00:00Z", &reason), GATE_ALLOW,
	       "standard starts Thursday 15:00 (standard window)");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-16T15:00:00Z", &reason), GATE_WAIT,
	       "standard waits in the holiday freeze");
	ok(strstr(reason.buf, "freeze 'holiday' until 2027-01-03T00:00:00Z") != NULL, "reason names the freeze and its end: %s",
	   reason.buf);
	ok(strstr(reason.buf, "next allowed at 2027-01-04T10:00:00Z") != NULL, "reason gives the next allowed time");
	is_int(ask(&g, "standard", "critical-security", GATE_PHASE_START, "2026-12-16T15:00:00Z", &reason), GATE_ALLOW,
	       "critical-security passes the holiday freeze");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-05T15:00:00Z", &reason), GATE_WAIT,
	       "Saturday: no window");
	ok(strstr(reason.buf, "blocked by window") != NULL, "reason names the window: %s", reason.buf);
	is_int(ask(&g, "emergency", "normal", GATE_PHASE_START, "2026-12-05T03:00:00Z", &reason), GATE_ALLOW,
	       "emergency starts any time outside freezes");
	is_int(ask(&g, "nightly", "normal", GATE_PHASE_START, "2026-12-03T15:00:00Z", &reason), GATE_DENY,
	       "a type the policy does not know never starts");

	/* a rollout in progress when the window closes: hold (default), continue, rollback */
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T20:00:00Z", &reason), GATE_WAIT,
	       "Friday 20:00: the extended window closed, hold");
	ok(strstr(reason.buf, "on_window_close: hold") != NULL, "hold says why");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T19:59:59Z", &reason), GATE_ALLOW,
	       "Friday 19:59:59: still inside the extended window");

	ok(policy_load(&q, rollback_policy, sizeof(rollback_policy) - 1, "r.yaml", NULL, &err) == 0, "load rollback policy");
	g.policy = &q;
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T20:00:00Z", &reason), GATE_DENY,
	       "on_window_close: rollback denies going on");
	policy_release(&q);
	ok(policy_load(&q, continue_policy, sizeof(continue_policy) - 1, "c.yaml", NULL, &err) == 0, "load continue policy");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_ADVANCE, "2026-12-04T20:00:00Z", &reason), GATE_ALLOW,
	       "on_window_close: continue goes on");
	is_int(ask(&g, "standard", "normal", GATE_PHASE_START, "2026-12-04T20:00:00Z", &reason), GATE_WAIT,
	       "but a new deployment still waits for a window");
	policy_release(&q);

	/* with a store: approvals by role from the policy's roles map, and incidents */
	{
		static const char roles_policy[] = "roles:\n  team-lead: [alice, bob]\n  vp-engineering: [victor]\n";
		char dir[] = "/tmp/slipway-gate.XXXXXX";
		struct store st = { 0 };
		struct strategy *strat = calloc(1, sizeof(*strat));
		struct deployment d, e;
		struct policy_gate sg;
		int64_t thu = at("2026-12-03T15:00:00Z"), inc;

		ok(mkdtemp(dir) != NULL, "temporary store directory");
		ok(policy_load(&q, roles_policy, sizeof(roles_policy) - 1, "roles.yaml", NULL, &err) == 0, "roles policy");
		store_fresh(dir);
		ok(store_open(&st, dir, &err) == 0 && deployment_store_migrate(&st, &err) == 0, "store: %s", err.buf);
		is_int(policy_gate_init(&sg, &q, &utc, &st, &err), 0, "gate init migrates approvals, incidents, audit");
		strategy_default(strat, STRATEGY_CANARY);
		deployment_init(&d, "api-server", "production", "v2", "v1", "standard", thu);
		snprintf(d.requested_by, sizeof(d.requested_by), "alice");
		is_int(deployment_store_create(&st, &d, strat, &err), 0, "create a standard deployment");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu, &reason), GATE_WAIT, "no approval: waits");
		ok(strstr(reason.buf, "approval needed: team-lead (no approval)") != NULL, "says which role: %s",
		   reason.buf);
		ok(approval_record(&st, d.id, "team-lead", "alice", APPROVAL_APPROVED, NULL, "alice", sg.roles.roles,
				   sg.roles.n, thu, &err) < 0, "the requester cannot approve her own deployment");
		ok(approval_record(&st, d.id, "team-lead", "mallory", APPROVAL_APPROVED, NULL, "mallory", sg.roles.roles,
				   sg.roles.n, thu, &err) < 0, "someone without the role cannot approve");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu, &reason), GATE_WAIT, "still waiting");
		ok(approval_record(&st, d.id, "team-lead", "bob", APPROVAL_APPROVED, NULL, "bob", sg.roles.roles,
				   sg.roles.n, thu, &err) > 0, "bob (team-lead) approves");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + MS_PER_HOUR, &reason), GATE_ALLOW,
		       "approved by a team-lead other than the requester: starts");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + 7 * MS_PER_DAY, &reason), GATE_WAIT,
		       "a week later the approval has expired (TTL 24h)");
		ok(strstr(reason.buf, "expired") != NULL, "says it expired: %s", reason.buf);

		inc = incident_open(&st, "api-server", "production", "elevated 5xx", "carol", 0, thu, &err);
		ok(inc > 0, "open an incident in production");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + MS_PER_HOUR, &reason), GATE_WAIT,
		       "an open incident holds deployments to production");
		ok(strstr(reason.buf, "incident") != NULL, "says which incident: %s", reason.buf);
		/* one unfinished deployment per service and environment (deployment_store.c migration 3):
		 * the standard one steps aside (as if aborted) while the emergency is recorded */
		ok(store_exec(&st, "UPDATE deployments SET state = 'failed'", NULL) == 0,
		   "the standard deployment steps aside");
		deployment_init(&e, "api-server", "production", "v3", "v1", "emergency", thu);
		snprintf(e.requested_by, sizeof(e.requested_by), "alice");
		is_int(deployment_store_create(&st, &e, strat, &err), 0, "record the emergency deployment");
		approval_record(&st, e.id, "vp-engineering", "victor", APPROVAL_APPROVED, NULL, "victor", sg.roles.roles,
				sg.roles.n, thu, &err);
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &e, GATE_PHASE_START, thu + MS_PER_HOUR, &reason), GATE_ALLOW,
		       "an emergency with vp-engineering approval passes the incident: %s", reason.buf);
		strbuf_reset(&reason);
		policy_gate_check(&sg, &e, GATE_PHASE_START, thu + MS_PER_HOUR + 100, &reason);
		{
			struct audit_entry *ae = NULL;
			size_t n = 0, bypassed = 0;
			ok(audit_list(&st, INT64_MIN, &ae, &n, &err) == 0, "read the audit log");
			for (size_t i = 0; i < n; i++)
				if (!strcmp(ae[i].action, "checklist.bypassed")) {
					bypassed++;
					ok(strstr(ae[i].detail, "no-incidents (failed: incident") != NULL,
					   "the emergency's checklist says the incident is open: %s", ae[i].detail);
				}
			is_int((int)bypassed, 1, "what the emergency missed is audited once, not at every look");
			audit_entries_free(ae, n);
		}
		{
			char *missing = NULL;
			is_int(checklist_bypassed(&st, e.id, &missing, &err), 0, "what the emergency missed, for its message");
			ok(missing && strstr(missing, "no-incidents") != NULL, "names the item: %s", missing ? missing : "(none)");
			free(missing);
		}
		is_int(incident_resolve(&st, inc, "carol", thu + MS_PER_HOUR, &err), 0, "resolve the incident");
		strbuf_reset(&reason);
		is_int(policy_gate_check(&sg, &d, GATE_PHASE_START, thu + 2 * MS_PER_HOUR, &reason), GATE_ALLOW,
		       "resolved: the standard deployment starts");

		policy_gate_release(&sg);
		store_close(&st);
		policy_release(&q);
		free(strat);
		{
			char cmd[128];
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
			if (system(cmd) != 0)
				printf("# could not remove %s\n", dir);
		}
	}

	test_checklists(&utc);
	test_release_proofs(&utc);
	policy_release(&p);
	strbuf_release(&reason);
	strbuf_release(&err);
	return tap_done();
}
