/*
 * calendar.c - windows, freezes and approvals evaluated over time.
 *
 * The state "may a deployment of this type and class start at instant t" is
 * a function of t's local wall-clock time only, so it changes only at a few
 * instants: each local midnight (freezes are whole days), each window edge
 * (from, to) of the type's windows, and each UTC-offset change of the zone.
 * Between two such change points it is constant.  next_allowed, each
 * blocker's "until" and the calendar's spans are therefore found by
 * evaluating the state at the change points, day by day, never by stepping
 * minute by minute.  Wall-clock edges are turned into instants with
 * tz_local_instants() (both instants of a repeated hour) and the offset
 * changes themselves are added, which is what makes a window edge inside a
 * DST gap take effect when the gap ends.
 */
#include "core/calendar.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

struct eval {
	const struct policy *p;
	const struct tz_zone *z;
	const struct policy_type *t;
	const char *cls;
	const struct policy_window **windows;	/* the type's windows, resolved */
	size_t windows_nr;
	int *walls;				/* distinct wall-clock minutes where state may change */
	size_t walls_nr;
};

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t calendar_local_date(const struct tz_zone *zone, int64_t utc_ms)
{
	return floordiv(tz_to_local(zone, utc_ms), MS_PER_DAY);
}

int64_t calendar_date_start(const struct tz_zone *zone, int64_t date)
{
	return tz_from_local(zone, date * MS_PER_DAY);
}

static int window_open(const struct policy_window *w, int64_t local_ms)
{
	int64_t day = floordiv(local_ms, MS_PER_DAY);
	int64_t tod = local_ms - day * MS_PER_DAY;
	int wday = (int)(((day % 7) + 7 + 4) % 7);	/* 1970-01-01 was a Thursday */
	int prev = (wday + 6) % 7;
	int64_t from = w->from_min * MS_PER_MIN, to = w->to_min * MS_PER_MIN;

	if (w->from_min < w->to_min)
		return (w->days & (1u << wday)) && tod >= from && tod < to;
	/* crosses midnight: the evening of a listed day, the morning after it */
	return ((w->days & (1u << wday)) && tod >= from) || ((w->days & (1u << prev)) && tod < to);
}

/* The occurrence of freeze f containing local date `date`, if any. */
static int freeze_occurrence(const struct policy_freeze *f, int64_t date, int64_t *start, int64_t *end)
{
	struct civil c;
	int md, from, until;

	civil_from_ms(date * MS_PER_DAY, &c);
	switch (f->kind) {
	case FREEZE_ANNUAL:
		md = c.month * 100 + c.day;
		from = f->from_month * 100 + f->from_day;
		until = f->until_month * 100 + f->until_day;
		if (from <= until) {
			if (md < from || md > until)
				return 0;
			*start = days_from_civil(c.year, f->from_month, f->from_day);
			*end = days_from_civil(c.year, f->until_month, f->until_day);
		} else if (md >= from) {	/* across the new year: Dec 15 .. Jan 2 */
			*start = days_from_civil(c.year, f->from_month, f->from_day);
			*end = days_from_civil(c.year + 1, f->until_month, f->until_day);
		} else if (md <= until) {
			*start = days_from_civil(c.year - 1, f->from_month, f->from_day);
			*end = days_from_civil(c.year, f->until_month, f->until_day);
		} else {
			return 0;
		}
		return 1;
	case FREEZE_QUARTER_END: {
		int dim = days_in_month(c.year, c.month);
		if (c.month % 3 != 0 || c.day <= dim - f->last_days)
			return 0;
		*start = days_from_civil(c.year, c.month, dim - f->last_days + 1);
		*end = days_from_civil(c.year, c.month, dim);
		return 1;
	}
	case FREEZE_PRODUCT_LAUNCH:
	case FREEZE_ONE_OFF:
		if (date < f->from_date || date > f->until_date)
			return 0;
		*start = f->from_date;
		*end = f->until_date;
		return 1;
	}
	return 0;
}

/* The state at instant t: returns 1 if allowed; *wout = the window used. */
static int state_at(const struct eval *ev, int64_t t, const struct policy_window **wout)
{
	int64_t local = tz_to_local(ev->z, t), date = floordiv(local, MS_PER_DAY), s, e;
	const struct policy_window *w = NULL;
	int frozen = 0;

	for (size_t i = 0; i < ev->windows_nr; i++)
		if (window_open(ev->windows[i], local)) {
			w = ev->windows[i];
			break;
		}
	for (size_t i = 0; i < ev->p->freezes_nr && !frozen; i++) {
		const struct policy_freeze *f = &ev->p->freezes[i];
		if (freeze_occurrence(f, date, &s, &e) && !policy_freeze_admits(f, ev->cls))
			frozen = 1;
	}
	*wout = w;
	return w && !frozen;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The change points of local date `date`, sorted; returns the count.  pts
 * must hold 2 * walls_nr + 4 entries. */
static size_t day_points(const struct eval *ev, int64_t date, int64_t *pts)
{
	size_t n = 0;
	int64_t lo;

	for (size_t i = 0; i < ev->walls_nr; i++)
		n += (size_t)tz_local_instants(ev->z, date * MS_PER_DAY + ev->walls[i] * MS_PER_MIN, pts + n);
	lo = date * MS_PER_DAY - tz_offset(ev->z, date * MS_PER_DAY) - MS_PER_HOUR;
	n += (size_t)tz_transitions(ev->z, lo, lo + MS_PER_DAY + 2 * MS_PER_HOUR, pts + n, 4);
	qsort(pts, n, sizeof(*pts), cmp_i64);
	return n;
}

/*
 * Visit the change points in (after, limit], ascending, calling visit() on
 * each until it returns non-zero; returns that value, or 0.
 */
static int each_point(const struct eval *ev, int64_t after, int64_t limit,
		      int (*visit)(const struct eval *, int64_t, void *), void *data)
{
	int64_t *pts = xmalloc((2 * ev->walls_nr + 4) * sizeof(*pts));
	int64_t last = after, d0 = calendar_local_date(ev->z, after) - 1;
	int64_t d1 = calendar_local_date(ev->z, limit) + 1;
	int r = 0;

	for (int64_t d = d0; d <= d1 && !r; d++) {
		size_t n = day_points(ev, d, pts);
		for (size_t i = 0; i < n && !r; i++) {
			if (pts[i] <= last || pts[i] > limit)
				continue;
			last = pts[i];
			r = visit(ev, pts[i], data);
		}
	}
	free(pts);
	return r;
}

static int eval_init(struct eval *ev, const struct policy *p, const struct tz_zone *z, const char *type,
		     const char *cls, struct strbuf *err)
{
	const struct policy_type *t = policy_find_type(p, type);
	size_t nw = 0;

	memset(ev, 0, sizeof(*ev));
	if (!t) {
		if (err) {
			strbuf_addf(err, "unknown deployment type '%s'; valid: ", type);
			for (size_t i = 0; i < p->types_nr; i++)
				strbuf_addf(err, "%s%s", i ? ", " : "", p->types[i].name);
		}
		return SW_ENOTFOUND;
	}
	if (!cls)
		cls = "normal";
	if (!policy_find_class(p, cls)) {
		if (err) {
			strbuf_addf(err, "unknown change class '%s'; valid: ", cls);
			for (size_t i = 0; i < p->classes_nr; i++)
				strbuf_addf(err, "%s%s", i ? ", " : "", p->classes[i].name);
		}
		return SW_ENOTFOUND;
	}
	ev->p = p;
	ev->z = z;
	ev->t = t;
	ev->cls = cls;
	ev->windows = xcalloc(t->windows.nr + 1, sizeof(*ev->windows));
	ev->walls = xcalloc(2 * t->windows.nr + 1, sizeof(*ev->walls));
	ev->walls[ev->walls_nr++] = 0;
	for (size_t i = 0; i < t->windows.nr; i++) {
		const struct policy_window *w = policy_find_window(p, t->windows.v[i]);
		if (!w)
			continue;	/* the loader rejects this; be safe anyway */
		ev->windows[nw++] = w;
		ev->walls[ev->walls_nr++] = w->from_min;
		if (w->to_min < 1440)
			ev->walls[ev->walls_nr++] = w->to_min;
	}
	ev->windows_nr = nw;
	qsort(ev->walls, ev->walls_nr, sizeof(*ev->walls), cmp_int);
	nw = 0;
	for (size_t i = 0; i < ev->walls_nr; i++)
		if (!nw || ev->walls[nw - 1] != ev->walls[i])
			ev->walls[nw++] = ev->walls[i];
	ev->walls_nr = nw;
	return 0;
}

static void eval_release(struct eval *ev)
{
	free(ev->windows);
	free(ev->walls);
}

static size_t approvals_for(const struct eval *ev, const struct policy_window *w, const char **out)
{
	int n = policy_required_approvals(ev->p, ev->t->name, w ? w->name : NULL, out,
					  CALENDAR_APPROVALS_MAX, NULL);
	return n < 0 ? 0 : n > CALENDAR_APPROVALS_MAX ? CALENDAR_APPROVALS_MAX : (size_t)n;
}

struct find_allowed {
	int64_t at;
	const struct policy_window *w;
};

static int visit_allowed(const struct eval *ev, int64_t t, void *data)
{
	struct find_allowed *fa = data;
	if (!state_at(ev, t, &fa->w))
		return 0;
	fa->at = t;
	return 1;
}

struct find_open {
	const struct policy_window *w;
	int64_t at;
};

static int visit_open(const struct eval *ev, int64_t t, void *data)
{
	struct find_open *fo = data;
	if (!window_open(fo->w, tz_to_local(ev->z, t)))
		return 0;
	fo->at = t;
	return 1;
}

static void add_blocker(struct calendar_result *r, enum blocker_kind kind, const char *name, int64_t until)
{
	ALLOC_GROW(r->blocked_by, r->blocked_nr + 1, r->blocked_alloc);
	r->blocked_by[r->blocked_nr].kind = kind;
	r->blocked_by[r->blocked_nr].name = name;
	r->blocked_by[r->blocked_nr].until_ms = until;
	r->blocked_nr++;
}

int calendar_check(const struct policy *p, const struct tz_zone *zone, const char *type, const char *cls,
		   int64_t at_ms, struct calendar_result *out, struct strbuf *err)
{
	struct eval ev;
	struct calendar_result r;
	const struct policy_window *w;
	int64_t limit = at_ms + CALENDAR_SEARCH_DAYS * MS_PER_DAY, date, s, e;
	int r0 = eval_init(&ev, p, zone, type, cls, err);

	if (r0 < 0)
		return r0;
	memset(&r, 0, sizeof(r));
	r.type = ev.t->name;
	r.change_class = policy_find_class(p, ev.cls)->name;
	r.at_ms = at_ms;
	r.allowed = state_at(&ev, at_ms, &w);
	r.window = w ? w->name : NULL;
	r.approvals_nr = approvals_for(&ev, w, r.approvals);

	if (!w) {
		/* Every window the type may use is closed: each is a blocker until it opens. */
		for (size_t i = 0; i < ev.windows_nr; i++) {
			struct find_open fo = { .w = ev.windows[i], .at = CALENDAR_NO_TIME };
			each_point(&ev, at_ms, limit, visit_open, &fo);
			add_blocker(&r, BLOCKER_WINDOW, ev.windows[i]->name, fo.at);
		}
	}
	date = calendar_local_date(zone, at_ms);
	for (size_t i = 0; i < p->freezes_nr; i++) {
		const struct policy_freeze *f = &p->freezes[i];
		if (freeze_occurrence(f, date, &s, &e) && !policy_freeze_admits(f, ev.cls))
			add_blocker(&r, BLOCKER_FREEZE, f->name, calendar_date_start(zone, e + 1));
	}

	if (r.allowed) {
		r.has_next = 1;
		r.next_ms = at_ms;
		r.next_window = r.window;
	} else {
		struct find_allowed fa = { .at = CALENDAR_NO_TIME };
		if (each_point(&ev, at_ms, limit, visit_allowed, &fa)) {
			r.has_next = 1;
			r.next_ms = fa.at;
			r.next_window = fa.w->name;
			w = fa.w;
		}
	}
	if (r.has_next)
		r.next_approvals_nr = approvals_for(&ev, w, r.next_approvals);
	eval_release(&ev);
	*out = r;
	return 0;
}

void calendar_result_release(struct calendar_result *r)
{
	if (!r)
		return;
	free(r->blocked_by);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- spans */

struct span_walk {
	struct calendar *c;
	int64_t prev;			/* the previous point */
	int prev_allowed;
	const struct policy_window *prev_w;
};

static int is_local_midnight(const struct eval *ev, int64_t t)
{
	int64_t local = tz_to_local(ev->z, t);
	return local - floordiv(local, MS_PER_DAY) * MS_PER_DAY == 0;
}

/* Close the segment [sw->prev, t) and start one at t. */
static void span_step(const struct eval *ev, struct span_walk *sw, int64_t t, int last)
{
	struct calendar *c = sw->c;
	if (sw->prev_allowed && t > sw->prev) {
		struct calendar_span *tail = c->spans_nr ? &c->spans[c->spans_nr - 1] : NULL;
		if (tail && tail->to_ms == sw->prev && tail->window == sw->prev_w->name &&
		    !is_local_midnight(ev, sw->prev)) {
			tail->to_ms = t;
		} else {
			struct calendar_span *s;
			ALLOC_GROW(c->spans, c->spans_nr + 1, c->spans_alloc);
			s = &c->spans[c->spans_nr++];
			memset(s, 0, sizeof(*s));
			s->from_ms = sw->prev;
			s->to_ms = t;
			s->window = sw->prev_w->name;
			s->approvals_nr = approvals_for(ev, sw->prev_w, s->approvals);
		}
	}
	if (!last) {
		sw->prev = t;
		sw->prev_allowed = state_at(ev, t, &sw->prev_w);
	}
}

static int visit_span(const struct eval *ev, int64_t t, void *data)
{
	span_step(ev, data, t, 0);
	return 0;
}

int calendar_spans(const struct policy *p, const struct tz_zone *zone, const char *type, const char *cls,
		   int64_t from_ms, int64_t to_ms, struct calendar *out, struct strbuf *err)
{
	struct eval ev;
	struct calendar c;
	struct span_walk sw;
	int64_t d0, d1, s, e;
	int r;

	if (to_ms <= from_ms) {
		strbuf_errf(err, "the calendar range is empty; --to must be after --from");
		return SW_EUSAGE;
	}
	if (to_ms - from_ms > CALENDAR_RANGE_MAX_DAYS * MS_PER_DAY) {
		strbuf_errf(err, "the calendar range is longer than %d days; ask for a shorter one",
			    CALENDAR_RANGE_MAX_DAYS);
		return SW_EUSAGE;
	}
	if ((r = eval_init(&ev, p, zone, type, cls, err)) < 0)
		return r;
	memset(&c, 0, sizeof(c));
	memset(&sw, 0, sizeof(sw));
	sw.c = &c;
	sw.prev = from_ms;
	sw.prev_allowed = state_at(&ev, from_ms, &sw.prev_w);
	each_point(&ev, from_ms, to_ms - 1, visit_span, &sw);
	span_step(&ev, &sw, to_ms, 1);

	d0 = calendar_local_date(zone, from_ms);
	d1 = calendar_local_date(zone, to_ms - 1);
	for (int64_t d = d0; d <= d1; d++) {
		for (size_t i = 0; i < p->freezes_nr; i++) {
			const struct policy_freeze *f = &p->freezes[i];
			int seen = 0;
			if (!freeze_occurrence(f, d, &s, &e))
				continue;
			for (size_t k = 0; k < c.freezes_nr; k++)
				seen |= c.freezes[k].freeze == f && c.freezes[k].from_date == s;
			if (seen)
				continue;
			ALLOC_GROW(c.freezes, c.freezes_nr + 1, c.freezes_alloc);
			c.freezes[c.freezes_nr].freeze = f;
			c.freezes[c.freezes_nr].from_date = s;
			c.freezes[c.freezes_nr].until_date = e;
			c.freezes[c.freezes_nr].from_ms = calendar_date_start(zone, s);
			c.freezes[c.freezes_nr].to_ms = calendar_date_start(zone, e + 1);
			c.freezes[c.freezes_nr].blocks = !policy_freeze_admits(f, ev.cls);
			c.freezes_nr++;
		}
	}
	eval_release(&ev);
	*out = c;
	return 0;
}

void calendar_release(struct calendar *c)
{
	if (!c)
		return;
	free(c->spans);
	free(c->freezes);
	memset(c, 0, sizeof(*c));
}
