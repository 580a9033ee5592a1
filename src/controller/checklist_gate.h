/*
 * checklist_gate.h - the runbook's checklists at the gate (runbook:
 * Pre-Deployment Checklist, Emergency Deployment Checklist;
 * docs/checklists.md): what each item's state is for one deployment, the
 * attestations that satisfy the items from elsewhere, and the rule that
 * keeps a deployment pending until every blocking item for its type is
 * satisfied.  Shared by the gate (gate.c), the CLI (`slipway attest`,
 * `slipway checklist`) and the API.
 */
#ifndef SLIPWAY_CONTROLLER_CHECKLIST_GATE_H
#define SLIPWAY_CONTROLLER_CHECKLIST_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/checklist.h"
#include "core/release_manifest.h"
#include "core/metrics-t.h"
#include "core/sarif.h"

struct policy;
struct service_github;
struct store;
struct strbuf;
struct json_t;

/* One item as a deployment sees it.  Strings owned (NULL when none). */
struct checklist_row {
	const struct checklist_item *item;	/* borrowed from the policy */
	enum checklist_state state;
	int blocking;				/* it blocks this deployment's type */
	char *evidence;				/* a URL or file, or what slipway proved */
	char *detail;				/* what slipway read from the evidence */
	char *who, *identity;			/* who attested (NULL for proofs) */
	int64_t at_ms;				/* when; 0 = never */
};

struct checklist_view {
	int64_t deployment_id;
	struct checklist_row *v;
	size_t n;
	size_t unsatisfied_blocking;		/* blocking rows not satisfied */
};

/*
 * The items of policy p that apply to deployment id (of `version` and
 * `type`), pre-deployment and emergency first, then post-deployment, each
 * with its state: attested items from the newest attestation for the
 * deployment or its version, proved items from what the gate last found
 * (adapters/checklist_store.h; CL_UNCHECKED before the gate looked).
 * The items proved once the deployment started are read from its records
 * each time: `baseline` from the baseline the engine stored, `announced`
 * from the DEPLOYMENT STARTING (or EMERGENCY DEPLOYMENT) message's
 * deliveries (adapters/notify.h); CL_UNCHECKED while it is pending.
 * 0 or SW_ESTORE.  Release with checklist_view_release().
 */
int checklist_view_build(struct store *st, const struct policy *p, int64_t id, const char *version, const char *type,
			 struct checklist_view *out, struct strbuf *err);
void checklist_view_release(struct checklist_view *v);

/* The view as JSON: {"deployment": ID, "blocking_unsatisfied": N, "items": [{id, list, text, who_may,
 * check, blocking, state, evidence, detail, by, identity, at}]}.  New reference. */
struct json_t *checklist_view_json(const struct checklist_view *v);

/* What an attestation asks for. */
struct attest_request {
	int64_t deployment_id;		/* > 0, or 0 with version set */
	const char *version;
	const char *service;		/* a version's service; NULL: the one service the store deployed it for */
	const char *item;
	const char *status;		/* "pass", "fail" or NULL (pass; for a SARIF item, from the findings) */
	const char *evidence;		/* a URL or a file name, or NULL */
	const char *sarif;		/* a SARIF log's bytes (for a `sarif` item), or NULL */
	size_t sarif_len;
	const char *actor, *identity;	/* who, authenticated by the caller ("os", "token:ID", "uid:N") */
	int64_t commit_time_ms;		/* the attested commit's time, ms, as CI reports it; 0: none (DORA lead
					   time reads it when the deployment has no commit time of its own) */
	int64_t now_ms;
};

/*
 * Record an attestation: the item must exist in p (SW_ENOTFOUND naming the
 * valid ids), and when its `who` is a role, actor must hold it (SW_EDENIED);
 * `who: automation` takes an API token's attestation (identity "token:ID")
 * or a CLI caller that names itself in $SLIPWAY_USER (identity "env:..."),
 * never a person under their OS name (identity "os": SW_EDENIED).
 * A `sarif` item needs the SARIF log (SW_EUSAGE): its findings at or above
 * the item's fail_at make the status fail whatever was asked, and the
 * detail names the worst finding (core/sarif.h; SW_EPARSE for a bad log).
 * The deployment must exist when given by id (SW_ENOTFOUND).  A version is
 * tied to a service: rq->service, else the only service the store has a
 * deployment of that version for (none: SW_ENOTFOUND, several: SW_EUSAGE,
 * each asking for the service); it counts for that service's deployments
 * of the version only.  A version must be letters, digits, . _ - + (SW_EUSAGE).  Stores it
 * with its audit entry.  Returns the attestation's id (> 0); *status_out,
 * if not NULL, gets "pass"/"fail" (static) and detail the SARIF summary.
 */
int64_t checklist_attest(struct store *st, const struct policy *p, const struct attest_request *rq,
			 const char **status_out, struct strbuf *detail, struct strbuf *err);

/*
 * Proof of "rollback possible": 0 and evidence, or SW_EDENIED and why, for a
 * deployment whose stable version is from_version.  Implemented by the
 * caller that knows the release directories (controller/local_deploy.c).
 */
typedef int checklist_rollback_fn(void *ctx, const char *service, const char *from_version, struct strbuf *evidence);

/*
 * The stable revision's current health (runbook Pre-Deployment Commands:
 * "Check production health"): the caller that reads the metrics fills
 * *recent with the last CHECKLIST_HEALTH_RECENT_MS of `version` as the
 * stable revision of `service`, and *earlier with the
 * CHECKLIST_HEALTH_EARLIER_MS before that (requests 0 when it has none).
 * 0, or a negative error with err (the metrics cannot be read).
 * Implemented by controller/local_deploy.c over the service's provider.
 */
#define CHECKLIST_HEALTH_RECENT_MS	60000		/* 1 min */
#define CHECKLIST_HEALTH_EARLIER_MS	(15 * 60000)	/* 15 min */
typedef int checklist_health_fn(void *ctx, const char *service, const char *version, struct metrics_sample *recent,
				struct metrics_sample *earlier, struct strbuf *err);

/*
 * Judge the stable revision's health against the policy's immediate
 * rollback limits (runbook: Rollback Decision Criteria, "Immediate"): the
 * recent error rate (percent) above p->immediate.error_rate_pct, or the
 * recent p99 above p->immediate.p99_ratio x the earlier p99 (when the
 * earlier window has requests), is CL_FAILED; within both, CL_SATISFIED;
 * no recent request is CL_UNCHECKED ("no data is never a pass").  ev gets
 * the numbers.  Pure.
 */
enum checklist_state checklist_judge_health(const struct policy *p, const char *version,
					    const struct metrics_sample *recent, const struct metrics_sample *earlier,
					    struct strbuf *ev);

/*
 * What the gate reads about a release and its service for "Feature flags in
 * place", "Migration scripts tested in staging", "Dashboards accessible" and
 * the live checks against GitHub (docs/checklists.md).  Filled by the
 * caller that knows the project (controller/local_deploy.c); strings owned
 * unless marked borrowed; release with checklist_release_release().
 */
struct checklist_database {
	char *name;			/* databases/NAME.yaml whose services: list the service */
	char *plan_sha256;		/* its sqitch plan's hash (adapters/db_tools.h); NULL: see err */
	char *err;			/* why the plan could not be hashed, or NULL */
	int64_t max_age_ms;		/* rehearsal.max_age */
};
struct checklist_release {
	int manifest;			/* 1: the release's slipway-release.yaml was read; 0: none; -1: bad (manifest_err) */
	char *manifest_path;
	char *manifest_err;
	struct release_manifest m;
	struct checklist_database *dbs;
	size_t ndbs;
	char *dbs_err;			/* a databases/ file that cannot be read (FILE:LINE:COL), or NULL */
	char *const *dashboards;	/* the service file's dashboards: (borrowed) */
	size_t ndashboards;
	const struct service_github *github;	/* the service file's github: (borrowed; NULL or repo NULL: none) */
};
/* 0, or a negative error with err (the gate reports the items unchecked). */
typedef int checklist_release_fn(void *ctx, const char *service, const char *version, struct checklist_release *out,
				 struct strbuf *err);
void checklist_release_release(struct checklist_release *r);

/*
 * Fill *out for service svc's release in release_dir: its manifest
 * (RELEASE_MANIFEST_FILE, core/release_manifest.h; absent: manifest 0, bad:
 * -1 with FILE:LINE:COL in manifest_err), the project's databases whose
 * services: list svc (databases/NAME.yaml, docs/databases.md) with their
 * sqitch plan's hash, and svc's dashboards and github section (borrowed:
 * svc must outlive *out).  project_dir NULL: $SLIPWAY_PROJECT or ".".
 * Returns 0 (faults are in *out, for the items to report).
 */
struct service;
int checklist_release_read(const char *project_dir, const struct service *svc, const char *release_dir,
			   struct checklist_release *out, struct strbuf *err);

/* The gate asks GitHub and probes dashboards at most this often per deployment (GitHub's rate limit:
 * 5,000 requests an hour for a token), and waits at most this long for the dashboards (all asked at once).
 * All the network probes of one checklist_gate_check() share CHECKLIST_PROBE_BUDGET_MS of wall time
 * (a slow dashboard or GitHub never stalls the controller's tick; docs/checklists.md): a probe that
 * runs out of it leaves its item unchecked, saying so, and is made again at the next probe; GitHub's
 * github.timeout is capped by what is left of it, and no request starts with less than
 * CHECKLIST_PROBE_MIN_MS left. */
#define CHECKLIST_PROBE_EVERY_MS 30000
#define CHECKLIST_DASHBOARD_TIMEOUT_MS 2000
#define CHECKLIST_PROBE_BUDGET_MS 5000
#define CHECKLIST_PROBE_MIN_MS 200

/*
 * THE CHECKLIST GATE, called by policy_gate_check() once the calendar,
 * incidents and approvals let deployment (id, service, env, version,
 * from_version, type) start: proves what slipway can (window, incidents and
 * approvals as the gate found them; staging from the records; rollback
 * through rollback_fn and the stable's health through health_fn, when not
 * NULL; thresholds from the policy), stores
 * each finding, and returns 0 when no blocking item is unsatisfied, 1 when
 * one is (reason says which, and the worst finding of a failed SARIF), or
 * a negative error.  An emergency is never held: what it misses is written
 * to the audit log once ("checklist.bypassed", detail "missing") and it
 * returns 0.
 */
/* What an emergency went through without (the "missing" of its
 * checklist.bypassed entry) as a new string in *missing, or NULL when it
 * missed nothing.  0 or SW_ESTORE.  The emergency's DEPLOYMENT STARTING
 * message carries it (controller/local_deploy.c). */
int checklist_bypassed(struct store *st, int64_t id, char **missing, struct strbuf *err);

struct checklist_gate_args {
	int64_t id;
	const char *service, *env, *version, *from_version, *type;
	const char *window;
	checklist_rollback_fn *rollback_fn;
	void *rollback_ctx;
	checklist_health_fn *health_fn;		/* NULL: production health is reported unchecked */
	void *health_ctx;
	checklist_release_fn *release_fn;	/* NULL: flags, migrations, dashboards unchecked; no GitHub */
	void *release_ctx;
	int64_t now_ms;
};
int checklist_gate_check(struct store *st, const struct policy *p, const struct checklist_gate_args *a,
			 struct strbuf *reason, struct strbuf *err);

#endif
