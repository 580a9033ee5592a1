/* policy_file.c - load the effective policy; see policy_file.h. */
#include "controller/policy_file.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "core/calendar.h"

#include <string.h>

void policy_file_release(struct policy_file *l)
{
	if (l->have_policy)
		policy_release(&l->p);
	l->have_policy = 0;
	tz_system_close(&l->tz);
}

int policy_file_load(const char *path, struct policy_file *l, int *positional, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, e = STRBUF_INIT;
	int r;

	memset(l, 0, sizeof(*l));
	if (positional)
		*positional = 0;
	if (!path) {
		policy_init_default(&l->p);
	} else {
		if ((r = strbuf_read_file_max(&buf, path, POLICY_FILE_MAX, &e)) < 0) {
			strbuf_addf(err, "cannot read the policy: %s", e.buf);
			strbuf_release(&buf);
			strbuf_release(&e);
			return r;
		}
		r = policy_load(&l->p, buf.buf, buf.len, path, &tz_system_db, err);
		strbuf_release(&buf);
		if (r < 0) {
			if (positional)
				*positional = 1;
			strbuf_release(&e);
			return SW_EPOLICY;
		}
	}
	l->have_policy = 1;
	if (tz_system_open(&l->tz, l->p.timezone, err) < 0) {
		policy_file_release(l);
		strbuf_release(&e);
		return SW_EPOLICY;
	}
	strbuf_release(&e);
	return 0;
}

int policy_approvals_at(const struct policy_file *l, const char *type, const char *cls, int64_t at_ms,
			const char **out, size_t max, struct strbuf *err)
{
	struct calendar_result r;
	const char *window = NULL;

	if (calendar_check(&l->p, &l->tz.zone, type, cls, at_ms, &r, err) < 0)
		return SW_EPOLICY;
	window = r.window;	/* borrowed from the policy, not from r */
	calendar_result_release(&r);
	return policy_required_approvals(&l->p, type, window, out, max, err);
}
