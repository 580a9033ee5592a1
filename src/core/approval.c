/*
 * approval.c - the approval gate as pure logic; see approval.h for the rules
 * and their sources.  The store adapter (adapters/approvals.c) loads the
 * decisions and records audit entries; this file only decides.
 */
#include "core/approval.h"
#include "core/policy.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <string.h>

const char *approval_why_str(enum approval_why why)
{
	switch (why) {
	case APPROVAL_WHY_NONE: return "no approval";
	case APPROVAL_WHY_EXPIRED: return "expired";
	case APPROVAL_WHY_REJECTED: return "rejected";
	case APPROVAL_WHY_NOT_IN_ROLE: return "approver lacks the role";
	case APPROVAL_WHY_SELF: return "self-approval refused";
	}
	return "unknown";
}

int roles_map_has(const struct role_members *roles, size_t n_roles, const char *role,
		  const char *person)
{
	if (!role || !person)
		return 0;
	for (size_t i = 0; i < n_roles; i++) {
		if (!roles[i].role || strcmp(roles[i].role, role))
			continue;
		for (size_t j = 0; j < roles[i].n_people; j++)
			if (roles[i].people[j] && !strcmp(roles[i].people[j], person))
				return 1;
	}
	return 0;
}

/* a later than b: by time, then by id (ids grow with insertion) */
static int later(const struct approval *a, const struct approval *b)
{
	return a->at_ms > b->at_ms || (a->at_ms == b->at_ms && a->id > b->id);
}

int approval_gate_eval(int64_t deployment_id, const char *const *required, size_t n_required,
		       const struct role_members *roles, size_t n_roles, const char *requester,
		       int64_t ttl_ms, int64_t now_ms, const struct approval *approvals,
		       size_t n_approvals, struct approval_gate *out, struct strbuf *err)
{
	struct approval_gate g = { 0 };
	size_t miss_alloc = 0, grant_alloc = 0;

	if (ttl_ms <= 0) {
		strbuf_errf(err, "approval ttl must be a positive duration, got %lld ms", (long long)ttl_ms);
		return SW_EUSAGE;
	}
	for (size_t r = 0; r < n_required; r++) {
		const char *role = required[r];
		const struct approval *valid = NULL, *invalid = NULL;
		enum approval_why invalid_why = APPROVAL_WHY_NONE;
		struct approval_missing m = { .role = role };
		int dup = 0;

		for (size_t k = 0; k < r; k++)
			if (!strcmp(required[k], role))
				dup = 1;
		if (dup)
			continue;
		for (size_t i = 0; i < n_approvals; i++) {
			const struct approval *a = &approvals[i];
			enum approval_why why = APPROVAL_WHY_NONE;

			if (a->deployment_id != deployment_id || !a->role || strcmp(a->role, role))
				continue;
			if (requester && a->approver && !strcmp(a->approver, requester))
				why = APPROVAL_WHY_SELF;
			else if (!roles_map_has(roles, n_roles, role, a->approver))
				why = APPROVAL_WHY_NOT_IN_ROLE;
			if (why != APPROVAL_WHY_NONE) {
				if (!invalid || later(a, invalid)) {
					invalid = a;
					invalid_why = why;
				}
				continue;
			}
			if (!valid || later(a, valid))
				valid = a;
		}
		if (valid && valid->decision == APPROVAL_APPROVED && now_ms - valid->at_ms < ttl_ms) {
			ALLOC_GROW(g.granted_ids, g.n_granted + 1, grant_alloc);
			g.granted_ids[g.n_granted++] = valid->id;
			continue;
		}
		if (valid) {
			m.why = valid->decision == APPROVAL_REJECTED ? APPROVAL_WHY_REJECTED : APPROVAL_WHY_EXPIRED;
			if (m.why == APPROVAL_WHY_REJECTED)
				g.rejected = 1;
			m.approval_id = valid->id;
			m.who = valid->approver;
			m.at_ms = valid->at_ms;
		} else if (invalid) {
			m.why = invalid_why;
			m.approval_id = invalid->id;
			m.who = invalid->approver;
			m.at_ms = invalid->at_ms;
		}
		ALLOC_GROW(g.missing, g.n_missing + 1, miss_alloc);
		g.missing[g.n_missing++] = m;
	}
	*out = g;
	return 0;
}

void approval_gate_release(struct approval_gate *g)
{
	if (!g)
		return;
	free(g->missing);
	free(g->granted_ids);
	memset(g, 0, sizeof(*g));
}

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int roles_map_parse(const char *text, struct roles_map *out, struct strbuf *err)
{
	struct roles_map m = { 0 };
	size_t alloc = 0;
	char *p;

	m.storage = xstrdup(text ? text : "");
	p = m.storage;
	while (p && *p) {
		char *next = strchr(p, ';'), *eq, *role, *list;
		const char **people = NULL;
		size_t np = 0, palloc = 0;

		if (next)
			*next++ = '\0';
		if (!*trim(p)) {
			p = next;
			continue;
		}
		eq = strchr(p, '=');
		if (!eq) {
			strbuf_errf(err, "roles: '%s' has no '='; expected role=person,person;role=person", trim(p));
			goto fail;
		}
		*eq = '\0';
		role = trim(p);
		list = eq + 1;
		if (!*role) {
			strbuf_errf(err, "roles: empty role name; expected role=person,person;role=person");
			goto fail;
		}
		while (list) {
			char *comma = strchr(list, ','), *name;
			if (comma)
				*comma++ = '\0';
			name = trim(list);
			if (*name) {
				ALLOC_GROW(people, np + 1, palloc);
				people[np++] = name;
			}
			list = comma;
		}
		ALLOC_GROW(m.roles, m.n + 1, alloc);
		m.roles[m.n].role = role;
		m.roles[m.n].people = people;
		m.roles[m.n].n_people = np;
		m.n++;
		p = next;
	}
	*out = m;
	return 0;
fail:
	roles_map_release(&m);
	return SW_EPARSE;
}

void roles_map_release(struct roles_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free((void *)m->roles[i].people);
	free(m->roles);
	free(m->storage);
	memset(m, 0, sizeof(*m));
}

void roles_map_from_policy(const struct policy *p, struct roles_map *out)
{
	memset(out, 0, sizeof(*out));
	out->roles = xcalloc(p->roles_nr ? p->roles_nr : 1, sizeof(*out->roles));
	for (size_t i = 0; i < p->roles_nr; i++) {
		const struct policy_names *people = &p->roles[i].people;
		const char **v = xcalloc(people->nr ? people->nr : 1, sizeof(*v));
		for (size_t k = 0; k < people->nr; k++)
			v[k] = people->v[k];
		out->roles[i].role = p->roles[i].name;
		out->roles[i].people = v;
		out->roles[i].n_people = people->nr;
	}
	out->n = p->roles_nr;
}
