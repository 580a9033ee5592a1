/* store_all.c - open the store with every module's migrations; see store_all.h. */
#include "adapters/store_all.h"
#include "adapters/approvals.h"
#include "adapters/checklist_store.h"
#include "adapters/deployment_store.h"
#include "adapters/emergency.h"
#include "adapters/flag_store.h"
#include "adapters/followup_store.h"
#include "adapters/incidents.h"
#include "adapters/lease.h"
#include "adapters/local_store.h"
#include "adapters/metrics_builtin.h"
#include "adapters/notify.h"
#include "adapters/store.h"
#include "adapters/tokens.h"

static int open_all(struct store *st, const char *dir, int reader, struct strbuf *err)
{
	int (*const migrate[])(struct store *, struct strbuf *) = {
		deployment_store_migrate, approvals_migrate /* with audit */, emergency_migrate, incidents_migrate,
		notify_migrate, local_store_migrate, metrics_store_migrate, lease_migrate, tokens_migrate,
		flag_store_migrate, checklist_store_migrate, followup_store_migrate,
	};
	int r = reader ? store_open_reader(st, dir, err) : store_open(st, dir, err);

	for (size_t i = 0; r >= 0 && i < sizeof(migrate) / sizeof(migrate[0]); i++)
		r = migrate[i](st, err);
	if (r < 0)
		store_close(st);
	return r < 0 ? r : 0;
}

int store_open_all(struct store *st, const char *dir, struct strbuf *err)
{
	return open_all(st, dir, 0, err);
}

int store_open_all_reader(struct store *st, const char *dir, struct strbuf *err)
{
	return open_all(st, dir, 1, err);
}
