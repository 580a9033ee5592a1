/*
 * flag_router.c - a guarded flag rollout's router (the flag's percentage)
 * and its empty target; see flag_router.h.
 */
#include "adapters/flag_router.h"
#include "adapters/flag_store.h"
#include "adapters/proc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/flag_rollout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int set_weight(void *ctx, const char *service, const char *group, const char *stable_version,
		      const char *canary_version, double canary_weight, struct strbuf *err)
{
	struct flag_router *fr = ctx;
	char flag[SW_NAME_MAX + 1], variant[SW_NAME_MAX + 1], path[128];
	struct flag_record cur = { 0 };
	struct strbuf why = STRBUF_INIT;
	json_t *def = NULL;
	int changed = 0, rc;
	int64_t v;

	if (flag_cohort_parse(canary_version, flag, sizeof(flag), variant, sizeof(variant)) != 1) {
		strbuf_errf(err, "'%s' is not a flag cohort (flag:FLAG=VARIANT)", canary_version);
		return SW_EUSAGE;
	}
	if ((rc = flag_store_get(fr->st, fr->env, FLAG_KIND_FLAG, flag, &cur, err)) < 0)
		return rc;
	def = json_deep_copy(cur.def);
	rc = flag_rollout_set(def, canary_weight, NULL, err);
	if (rc >= 0) {
		strbuf_addf(&why, "guarded rollout, deployment #%lld: %d%%", (long long)fr->deployment_id,
			    (int)floor(canary_weight));
		v = flag_store_put(fr->st, fr->env, FLAG_KIND_FLAG, flag, def, FLAG_PUT_UPDATE,
				   fr->actor[0] ? fr->actor : "slipway", why.buf, proc_now_ms(), &changed, path,
				   sizeof(path), err);
		if (v < 0)
			rc = (int)v;
	}
	json_decref(def);
	flag_record_release(&cur);
	strbuf_release(&why);
	return rc < 0 ? rc : 0;
}

/* the service's running revision serves both cohorts: nothing to start or stop */
static int ensure(void *ctx, const char *service, const char *version, enum revision_role role, int up, int count,
		  struct strbuf *err)
{
	return 0;
}

void flag_router_init(struct flag_router *fr, struct router *r, struct target *t)
{
	memset(r, 0, sizeof(*r));
	memset(t, 0, sizeof(*t));
	r->ctx = fr;
	r->set_weight = set_weight;
	t->ctx = fr;
	t->ensure = ensure;
}
