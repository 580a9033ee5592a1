/*
 * argo_expr.c - a small recursive-descent parser and tree evaluator for
 * Argo Rollouts' metric conditions (core/argo_expr.h; docs/argo.md).
 *
 * Argo evaluates conditions with the expr-lang library; slipway accepts the
 * subset Prometheus results need and refuses the rest when the file loads,
 * so a typo is a load error at its column and never a measurement Error in
 * the middle of a rollout.  Types are checked at parse time where they are
 * known (a condition must be boolean, && takes booleans, < takes numbers);
 * `result` is a number or a vector depending on the query, so what depends
 * on it is checked when evaluating.
 *
 * Nodes live in one array (at most ARGO_EXPR_MAX_NODES), children by index;
 * recursion depth is bounded by the node count.
 */
#include "core/argo_expr.h"

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum node_op {
	N_NUM, N_BOOL, N_RESULT, N_ELEM, N_INDEX,
	N_NEG, N_NOT,
	N_ADD, N_SUB, N_MUL, N_DIV,
	N_LT, N_LE, N_GT, N_GE, N_EQ, N_NE,
	N_AND, N_OR,
	N_ISNAN, N_LEN, N_ALL, N_ANY,
};

/* Static types: a number, a boolean, a vector, or `result` (number or vector). */
enum vtype { T_NUM, T_BOOL, T_VEC, T_RESULT };

struct node {
	enum node_op op;
	enum vtype type;
	int a, b;		/* children, -1 none */
	double num;
	int col;		/* 1-based, for messages: the operator's or the term's */
	int start;		/* 1-based column where the whole term starts */
};

struct argo_expr {
	int n, root;
	struct node nodes[];
};

/* ---- lexer ---- */

enum tok {
	K_END, K_NUM, K_IDENT, K_HASH, K_LP, K_RP, K_LB, K_RB, K_LC, K_RC, K_COMMA,
	K_PLUS, K_MINUS, K_STAR, K_SLASH, K_LT, K_LE, K_GT, K_GE, K_EQ, K_NE, K_AND, K_OR, K_NOT,
	K_BAD,
};

struct parser {
	const char *s;
	size_t pos;		/* of the current token */
	size_t len;		/* of the current token */
	enum tok t;
	double num;
	int in_pred;		/* inside {...}: # is allowed */
	int depth;
	struct argo_expr *e;
	int cap;
	int col;		/* of the error */
	struct strbuf *err;
	int failed;
};

static int fail(struct parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;
	if (p->failed)
		return -1;
	p->failed = 1;
	p->col = (int)at + 1;
	if (p->err) {
		strbuf_addf(p->err, "column %d: ", p->col);
		va_start(ap, fmt);
		strbuf_vaddf(p->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int ident_is(const struct parser *p, const char *w)
{
	return p->t == K_IDENT && strlen(w) == p->len && !memcmp(p->s + p->pos, w, p->len);
}

static void next(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos + p->len;
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	p->pos = i;
	p->len = 1;
	switch (s[i]) {
	case '\0': p->t = K_END; p->len = 0; return;
	case '#': p->t = K_HASH; return;
	case '(': p->t = K_LP; return;
	case ')': p->t = K_RP; return;
	case '[': p->t = K_LB; return;
	case ']': p->t = K_RB; return;
	case '{': p->t = K_LC; return;
	case '}': p->t = K_RC; return;
	case ',': p->t = K_COMMA; return;
	case '+': p->t = K_PLUS; return;
	case '-': p->t = K_MINUS; return;
	case '*': p->t = K_STAR; return;
	case '/': p->t = K_SLASH; return;
	case '<': if (s[i + 1] == '=') p->len = 2; p->t = p->len == 2 ? K_LE : K_LT; return;
	case '>': if (s[i + 1] == '=') p->len = 2; p->t = p->len == 2 ? K_GE : K_GT; return;
	case '=': p->t = s[i + 1] == '=' ? (p->len = 2, K_EQ) : K_BAD; return;
	case '!': if (s[i + 1] == '=') p->len = 2; p->t = p->len == 2 ? K_NE : K_NOT; return;
	case '&': p->t = s[i + 1] == '&' ? (p->len = 2, K_AND) : K_BAD; return;
	case '|': p->t = s[i + 1] == '|' ? (p->len = 2, K_OR) : K_BAD; return;
	default: break;
	}
	if (isdigit((unsigned char)s[i]) || (s[i] == '.' && isdigit((unsigned char)s[i + 1]))) {
		char *end;
		errno = 0;
		p->num = strtod(s + i, &end);
		p->len = (size_t)(end - (s + i));
		/* no hex, inf or nan spellings; a number runs into no letter */
		p->t = errno || !isfinite(p->num) || isalpha((unsigned char)*end) || *end == '_' || *end == '.' ||
		       memchr(s + i, 'x', p->len) || memchr(s + i, 'X', p->len) ? K_BAD : K_NUM;
		if (p->t == K_BAD)
			while (isalnum((unsigned char)s[i + p->len]) || s[i + p->len] == '.' || s[i + p->len] == '_')
				p->len++;
		return;
	}
	if (isalpha((unsigned char)s[i]) || s[i] == '_' || s[i] == '$') {
		while (isalnum((unsigned char)s[i + p->len]) || s[i + p->len] == '_' || s[i + p->len] == '$')
			p->len++;
		p->t = K_IDENT;
		if (ident_is(p, "and"))
			p->t = K_AND;
		else if (ident_is(p, "or"))
			p->t = K_OR;
		else if (ident_is(p, "not"))
			p->t = K_NOT;
		return;
	}
	p->t = K_BAD;
	/* one whole UTF-8 character in the message */
	while ((s[i + p->len] & 0xc0) == 0x80)
		p->len++;
}

static int bad_token(struct parser *p, const char *expected)
{
	if (p->t == K_END)
		return fail(p, p->pos, "the condition ends early; expected %s", expected);
	return fail(p, p->pos, "unexpected '%.*s'; expected %s", (int)(p->len > 40 ? 40 : p->len), p->s + p->pos,
		    expected);
}

static int add(struct parser *p, enum node_op op, enum vtype type, int a, int b, size_t at)
{
	struct node *n;
	if (p->e->n >= p->cap)
		return fail(p, at, "the condition is too long (more than %d terms)", ARGO_EXPR_MAX_NODES);
	n = &p->e->nodes[p->e->n];
	n->op = op, n->type = type, n->a = a, n->b = b, n->num = 0, n->col = (int)at + 1;
	n->start = a >= 0 && p->e->nodes[a].start < n->col ? p->e->nodes[a].start : n->col;
	return p->e->n++;
}

static const char *type_name(enum vtype t)
{
	return t == T_NUM ? "a number" : t == T_BOOL ? "a boolean" : t == T_VEC ? "a vector" : "the result";
}

/* Whether node i can be used as `want` (T_RESULT may be a number or vector). */
static int need(struct parser *p, int i, enum vtype want, const char *what)
{
	enum vtype t = p->e->nodes[i].type;
	if (t == want || (t == T_RESULT && (want == T_NUM || want == T_VEC)))
		return 0;
	return fail(p, (size_t)p->e->nodes[i].start - 1, "%s needs %s, found %s", what, type_name(want), type_name(t));
}

static int parse_or(struct parser *p);

static int parse_call(struct parser *p, size_t at)
{
	int fn = ident_is(p, "isNaN") ? N_ISNAN : ident_is(p, "len") ? N_LEN : ident_is(p, "all") ? N_ALL
		: ident_is(p, "any") ? N_ANY : -1;
	char name[8];
	int a, b = -1;

	if (fn < 0) {
		return fail(p, at,
			    "unknown function '%.*s'; valid: isNaN(x), len(result), all(result, {# < 1}), any(result, {# < 1})",
			    (int)(p->len > 40 ? 40 : p->len), p->s + p->pos);
	}
	snprintf(name, sizeof(name), "%.*s", (int)p->len, p->s + p->pos);
	next(p);		/* the name */
	next(p);		/* ( */
	if ((a = parse_or(p)) < 0)
		return -1;
	if (fn == N_ISNAN && need(p, a, T_NUM, "isNaN()") < 0)
		return -1;
	if (fn != N_ISNAN && need(p, a, T_VEC, fn == N_LEN ? "len()" : fn == N_ALL ? "all()" : "any()") < 0)
		return -1;
	if (fn == N_ALL || fn == N_ANY) {
		if (p->t != K_COMMA)
			return bad_token(p, "',' and a predicate such as {# < 1}");
		next(p);
		if (p->t != K_LC)
			return bad_token(p, "a predicate in braces such as {# < 1}");
		if (p->in_pred)
			return fail(p, p->pos, "all()/any() inside a predicate is not supported");
		p->in_pred = 1;
		next(p);
		if ((b = parse_or(p)) < 0)
			return -1;
		if (need(p, b, T_BOOL, "the predicate") < 0)
			return -1;
		if (p->t != K_RC)
			return bad_token(p, "'}'");
		p->in_pred = 0;
		next(p);
	}
	if (p->t != K_RP)
		return bad_token(p, "')'");
	next(p);
	return add(p, (enum node_op)fn, fn == N_LEN ? T_NUM : T_BOOL, a, b, at);
}

static int parse_primary(struct parser *p)
{
	size_t at = p->pos;
	int n;

	if (++p->depth > 64)
		return fail(p, at, "the condition nests too deeply");
	switch (p->t) {
	case K_NUM:
		if ((n = add(p, N_NUM, T_NUM, -1, -1, at)) >= 0)
			p->e->nodes[n].num = p->num;
		next(p);
		break;
	case K_HASH:
		if (!p->in_pred)
			return fail(p, at, "'#' is the element inside all()/any()'s {...} only");
		n = add(p, N_ELEM, T_NUM, -1, -1, at);
		next(p);
		break;
	case K_LP:
		next(p);
		if ((n = parse_or(p)) < 0)
			return -1;
		if (p->t != K_RP)
			return bad_token(p, "')'");
		next(p);
		break;
	case K_IDENT:
		if (ident_is(p, "result")) {
			n = add(p, N_RESULT, T_RESULT, -1, -1, at);
			next(p);
		} else if (ident_is(p, "true") || ident_is(p, "false")) {
			if ((n = add(p, N_BOOL, T_BOOL, -1, -1, at)) >= 0)
				p->e->nodes[n].num = ident_is(p, "true");
			next(p);
		} else {
			size_t save = p->pos, slen = p->len;
			next(p);
			if (p->t == K_LP) {
				p->pos = save, p->len = slen, p->t = K_IDENT;
				n = parse_call(p, at);
			} else {
				return fail(p, at, "unknown name '%.*s'; valid: result, # (in all()/any()), true, false, "
					    "isNaN, len, all, any", (int)(slen > 40 ? 40 : slen), p->s + save);
			}
		}
		break;
	default:
		return bad_token(p, "a number, result, '(' or a function");
	}
	if (n < 0)
		return -1;
	while (p->t == K_LB) {
		size_t lb = p->pos;
		int ix;
		if (need(p, n, T_VEC, "[N]") < 0)
			return -1;
		next(p);
		if (p->t != K_NUM || p->num != floor(p->num) || p->num > 1e6)
			return bad_token(p, "a whole number index such as result[0]");
		if ((ix = add(p, N_NUM, T_NUM, -1, -1, p->pos)) < 0)
			return -1;
		p->e->nodes[ix].num = p->num;
		next(p);
		if (p->t != K_RB)
			return bad_token(p, "']'");
		next(p);
		if ((n = add(p, N_INDEX, T_NUM, n, ix, lb)) < 0)
			return -1;
	}
	p->depth--;
	return n;
}

static int parse_unary(struct parser *p)
{
	size_t at = p->pos;
	int a;
	if (p->t == K_NOT || p->t == K_MINUS) {
		enum tok t = p->t;
		if (++p->depth > 64)
			return fail(p, at, "the condition nests too deeply");
		next(p);
		if ((a = parse_unary(p)) < 0)
			return -1;
		p->depth--;
		if (t == K_NOT)
			return need(p, a, T_BOOL, "'!'") < 0 ? -1 : add(p, N_NOT, T_BOOL, a, -1, at);
		return need(p, a, T_NUM, "'-'") < 0 ? -1 : add(p, N_NEG, T_NUM, a, -1, at);
	}
	return parse_primary(p);
}

static int parse_mul(struct parser *p)
{
	int a = parse_unary(p), b;
	while (a >= 0 && (p->t == K_STAR || p->t == K_SLASH)) {
		size_t at = p->pos;
		enum node_op op = p->t == K_STAR ? N_MUL : N_DIV;
		next(p);
		if ((b = parse_unary(p)) < 0 || need(p, a, T_NUM, op == N_MUL ? "'*'" : "'/'") < 0 ||
		    need(p, b, T_NUM, op == N_MUL ? "'*'" : "'/'") < 0)
			return -1;
		a = add(p, op, T_NUM, a, b, at);
	}
	return a;
}

static int parse_add(struct parser *p)
{
	int a = parse_mul(p), b;
	while (a >= 0 && (p->t == K_PLUS || p->t == K_MINUS)) {
		size_t at = p->pos;
		enum node_op op = p->t == K_PLUS ? N_ADD : N_SUB;
		next(p);
		if ((b = parse_mul(p)) < 0 || need(p, a, T_NUM, op == N_ADD ? "'+'" : "'-'") < 0 ||
		    need(p, b, T_NUM, op == N_ADD ? "'+'" : "'-'") < 0)
			return -1;
		a = add(p, op, T_NUM, a, b, at);
	}
	return a;
}

static int parse_cmp(struct parser *p)
{
	static const struct { enum tok t; enum node_op op; const char *s; } ops[] = {
		{ K_LT, N_LT, "'<'" }, { K_LE, N_LE, "'<='" }, { K_GT, N_GT, "'>'" },
		{ K_GE, N_GE, "'>='" }, { K_EQ, N_EQ, "'=='" }, { K_NE, N_NE, "'!='" },
	};
	int a = parse_add(p), b;
	for (size_t i = 0; a >= 0 && i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (p->t != ops[i].t)
			continue;
		size_t at = p->pos;
		next(p);
		if ((b = parse_add(p)) < 0)
			return -1;
		if (ops[i].op == N_EQ || ops[i].op == N_NE) {
			/* == and != compare two numbers or two booleans */
			enum vtype ta = p->e->nodes[a].type, tb = p->e->nodes[b].type;
			int bools = ta == T_BOOL || tb == T_BOOL;
			if (need(p, a, bools ? T_BOOL : T_NUM, ops[i].s) < 0 || need(p, b, bools ? T_BOOL : T_NUM, ops[i].s) < 0)
				return -1;
		} else if (need(p, a, T_NUM, ops[i].s) < 0 || need(p, b, T_NUM, ops[i].s) < 0) {
			return -1;
		}
		a = add(p, ops[i].op, T_BOOL, a, b, at);
		for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++)
			if (p->t == ops[j].t)
				return fail(p, p->pos, "comparisons do not chain; write 'a < b && b < c'");
		break;
	}
	return a;
}

static int parse_and(struct parser *p)
{
	int a = parse_cmp(p), b;
	while (a >= 0 && p->t == K_AND) {
		size_t at = p->pos;
		next(p);
		if ((b = parse_cmp(p)) < 0 || need(p, a, T_BOOL, "'&&'") < 0 || need(p, b, T_BOOL, "'&&'") < 0)
			return -1;
		a = add(p, N_AND, T_BOOL, a, b, at);
	}
	return a;
}

static int parse_or(struct parser *p)
{
	int a = parse_and(p), b;
	while (a >= 0 && p->t == K_OR) {
		size_t at = p->pos;
		next(p);
		if ((b = parse_and(p)) < 0 || need(p, a, T_BOOL, "'||'") < 0 || need(p, b, T_BOOL, "'||'") < 0)
			return -1;
		a = add(p, N_OR, T_BOOL, a, b, at);
	}
	return a;
}

int argo_expr_parse(const char *text, struct argo_expr **out, int *col, struct strbuf *err)
{
	struct parser p;
	size_t len = text ? strlen(text) : 0;
	int root;

	memset(&p, 0, sizeof(p));
	p.s = text ? text : "";
	p.err = err;
	if (len > ARGO_EXPR_MAX_LEN) {
		fail(&p, 0, "the condition is longer than %d bytes", ARGO_EXPR_MAX_LEN);
		goto bad;
	}
	p.cap = ARGO_EXPR_MAX_NODES;
	p.e = xcalloc(1, sizeof(*p.e) + (size_t)p.cap * sizeof(struct node));
	next(&p);
	if (p.t == K_END) {
		fail(&p, 0, "the condition is empty");
		goto bad;
	}
	if ((root = parse_or(&p)) < 0)
		goto bad;
	if (p.t != K_END) {
		bad_token(&p, "an operator (&&, ||, <, ...) or the end");
		goto bad;
	}
	if (need(&p, root, T_BOOL, "a condition") < 0)
		goto bad;
	p.e->root = root;
	*out = p.e;
	return 0;
bad:
	free(p.e);
	if (col)
		*col = p.col;
	return SW_EPARSE;
}

void argo_expr_free(struct argo_expr *e)
{
	free(e);
}

/* ---- evaluation ---- */

struct val {
	enum vtype t;		/* T_NUM, T_BOOL or T_VEC */
	double x;
	const double *v;
	size_t n;
};

struct ev {
	const struct argo_expr *e;
	const struct argo_result *r;
	double elem;
	struct strbuf *err;
};

static int eval(struct ev *c, int i, struct val *out);

static int eval_num(struct ev *c, int i, double *x)
{
	struct val v;
	if (eval(c, i, &v) < 0)
		return -1;
	if (v.t != T_NUM) {
		strbuf_errf(c->err, "column %d: the result is a vector of %zu values where a number is needed; "
			    "index it (result[0]) or use all()/any()", c->e->nodes[i].col, v.n);
		return -1;
	}
	*x = v.x;
	return 0;
}

static int eval_vec(struct ev *c, int i, struct val *v)
{
	if (eval(c, i, v) < 0)
		return -1;
	if (v->t != T_VEC) {
		strbuf_errf(c->err, "column %d: the result is a number (a scalar query) where a vector is needed",
			    c->e->nodes[i].col);
		return -1;
	}
	return 0;
}

static int eval(struct ev *c, int i, struct val *out)
{
	const struct node *n = &c->e->nodes[i];
	struct val a, b;
	double x, y;

	memset(out, 0, sizeof(*out));
	out->t = n->type == T_RESULT ? T_NUM : n->type;
	switch (n->op) {
	case N_NUM: out->x = n->num; return 0;
	case N_BOOL: out->x = n->num; return 0;
	case N_ELEM: out->x = c->elem; return 0;
	case N_RESULT:
		if (c->r->is_vector)
			out->t = T_VEC, out->v = c->r->values, out->n = c->r->n;
		else
			out->x = c->r->scalar;
		return 0;
	case N_INDEX:
		if (eval_vec(c, n->a, &a) < 0)
			return -1;
		if ((size_t)c->e->nodes[n->b].num >= a.n) {
			strbuf_errf(c->err, "column %d: index %g is past the end of the result (%zu values%s)", n->col,
				    c->e->nodes[n->b].num, a.n, a.n ? "" : ": no data");
			return -1;
		}
		out->x = a.v[(size_t)c->e->nodes[n->b].num];
		return 0;
	case N_NEG:
		if (eval_num(c, n->a, &x) < 0)
			return -1;
		out->x = -x;
		return 0;
	case N_NOT:
		if (eval(c, n->a, &a) < 0)
			return -1;
		out->x = !a.x;
		return 0;
	case N_AND: case N_OR:
		if (eval(c, n->a, &a) < 0)
			return -1;
		if ((n->op == N_AND) == !a.x) {	/* short circuit, as expr-lang does */
			out->x = a.x;
			return 0;
		}
		if (eval(c, n->b, &b) < 0)
			return -1;
		out->x = b.x;
		return 0;
	case N_ISNAN:
		if (eval_num(c, n->a, &x) < 0)
			return -1;
		out->x = isnan(x);
		return 0;
	case N_LEN:
		if (eval_vec(c, n->a, &a) < 0)
			return -1;
		out->x = (double)a.n;
		return 0;
	case N_ALL: case N_ANY: {
		double save = c->elem;
		if (eval_vec(c, n->a, &a) < 0)
			return -1;
		out->x = n->op == N_ALL;
		for (size_t k = 0; k < a.n; k++) {
			c->elem = a.v[k];
			if (eval(c, n->b, &b) < 0)
				return -1;
			if ((n->op == N_ALL && !b.x) || (n->op == N_ANY && b.x)) {
				out->x = n->op == N_ANY;
				break;
			}
		}
		c->elem = save;
		return 0;
	}
	case N_EQ: case N_NE:
		if (c->e->nodes[n->a].type == T_BOOL) {
			if (eval(c, n->a, &a) < 0 || eval(c, n->b, &b) < 0)
				return -1;
			x = a.x, y = b.x;
		} else if (eval_num(c, n->a, &x) < 0 || eval_num(c, n->b, &y) < 0) {
			return -1;
		}
		out->x = n->op == N_EQ ? x == y : x != y;
		return 0;
	default:
		break;
	}
	if (eval_num(c, n->a, &x) < 0 || eval_num(c, n->b, &y) < 0)
		return -1;
	switch (n->op) {
	case N_ADD: out->x = x + y; break;
	case N_SUB: out->x = x - y; break;
	case N_MUL: out->x = x * y; break;
	case N_DIV: out->x = x / y; break;	/* IEEE: 0/0 is NaN, as in Go */
	case N_LT: out->x = x < y; break;
	case N_LE: out->x = x <= y; break;
	case N_GT: out->x = x > y; break;
	case N_GE: out->x = x >= y; break;
	default: break;
	}
	return 0;
}

int argo_expr_eval(const struct argo_expr *e, const struct argo_result *r, struct strbuf *err)
{
	struct ev c = { e, r, 0, err };
	struct val v;
	if (eval(&c, e->root, &v) < 0)
		return SW_EPARSE;
	return v.x != 0;
}

static int sample_value(const json_t *pair, double *x)
{
	const char *s = json_string_value(json_array_get(pair, 1));
	char *end;
	if (!json_is_array(pair) || json_array_size(pair) != 2 || !s || !*s)
		return -1;
	errno = 0;
	*x = strtod(s, &end);	/* Prometheus writes NaN, +Inf, -Inf as strtod reads them */
	return *end ? -1 : 0;
}

int argo_result_from_prometheus(const struct json_t *data, struct argo_result *out, double *buf, size_t max,
				struct strbuf *err)
{
	const char *type = json_string_value(json_object_get(data, "resultType"));
	const json_t *res = json_object_get(data, "result");
	struct argo_result r = { 0 };

	if (!type || !res) {
		strbuf_errf(err, "the answer has no data.resultType and data.result");
		return SW_EPARSE;
	}
	if (!strcmp(type, "scalar")) {
		if (sample_value(res, &r.scalar) < 0) {
			strbuf_errf(err, "the scalar result is not [time, \"number\"]");
			return SW_EPARSE;
		}
	} else if (!strcmp(type, "vector") && json_is_array(res)) {
		size_t i;
		json_t *el;
		r.is_vector = 1;
		if (json_array_size(res) > max) {
			strbuf_errf(err, "the vector has %zu series; at most %zu", json_array_size(res), max);
			return SW_EPARSE;
		}
		json_array_foreach(res, i, el) {
			if (sample_value(json_object_get(el, "value"), &buf[i]) < 0) {
				strbuf_errf(err, "series %zu has no value [time, \"number\"]", i);
				return SW_EPARSE;
			}
		}
		r.values = buf;
		r.n = json_array_size(res);
	} else {
		strbuf_errf(err, "result type '%s' is not supported; valid: vector, scalar (an instant query)", type);
		return SW_EPARSE;
	}
	*out = r;
	return 0;
}

/* ---- phases ---- */

const char *argo_phase_name(enum argo_phase p)
{
	static const char *const names[] = { "Running", "Successful", "Inconclusive", "Error", "Failed" };
	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

static int has_nan(const struct argo_result *r)
{
	if (!r->is_vector)
		return isnan(r->scalar);
	for (size_t i = 0; i < r->n; i++)
		if (isnan(r->values[i]))
			return 1;
	return 0;
}

enum argo_phase argo_measure(const struct argo_expr *success, const struct argo_expr *failure,
			     const struct argo_result *r, struct strbuf *reason)
{
	struct strbuf e = STRBUF_INIT;
	int ok = 0, bad = 0;
	enum argo_phase p;

	if (r->is_vector && r->n == 0) {
		strbuf_errf(reason, "no data: the query returned an empty vector");
		return ARGO_ERROR;
	}
	if (success && (ok = argo_expr_eval(success, r, &e)) < 0) {
		strbuf_errf(reason, "successCondition: %s", e.buf);
		p = ARGO_ERROR;
		goto out;
	}
	if (failure && (bad = argo_expr_eval(failure, r, &e)) < 0) {
		strbuf_errf(reason, "failureCondition: %s", e.buf);
		p = ARGO_ERROR;
		goto out;
	}
	if (!success && !failure)
		ok = 1;
	else if (!failure)
		bad = !ok;
	else if (!success)
		ok = !bad;
	if (bad) {
		p = ARGO_FAILED;
		strbuf_errf(reason, "%s", failure ? "failureCondition is true" : "successCondition is false");
	} else if (!ok) {
		p = ARGO_INCONCLUSIVE;
		strbuf_errf(reason, "neither successCondition nor failureCondition is true");
	} else if (has_nan(r)) {
		p = ARGO_INCONCLUSIVE;
		strbuf_errf(reason, "undefined: the result holds NaN (0/0); never a pass");
	} else {
		p = ARGO_SUCCESSFUL;
		strbuf_errf(reason, "%s", success ? "successCondition is true" : "failureCondition is false");
	}
out:
	strbuf_release(&e);
	return p;
}

void argo_metric_record(struct argo_metric_state *st, enum argo_phase p)
{
	if (p == ARGO_ERROR) {
		/* Argo's MetricResult.Count is "the number of times the metric was measured
		   without Error": a metric that can only error never reaches its count */
		st->error++;
		st->consecutive_error++;
		return;
	}
	st->count++;
	st->consecutive_error = 0;
	if (p == ARGO_SUCCESSFUL)
		st->successful++;
	else if (p == ARGO_FAILED)
		st->failed++;
	else if (p == ARGO_INCONCLUSIVE)
		st->inconclusive++;
}

enum argo_phase argo_metric_phase(const struct argo_metric_state *st, const struct argo_limits *l)
{
	if (l->failure_limit >= 0 && st->failed > l->failure_limit)
		return ARGO_FAILED;
	if (l->inconclusive_limit >= 0 && st->inconclusive > l->inconclusive_limit)
		return ARGO_INCONCLUSIVE;
	if (l->consecutive_error_limit >= 0 && st->consecutive_error > l->consecutive_error_limit)
		return ARGO_ERROR;
	if (l->count > 0 && st->count >= l->count)
		return ARGO_SUCCESSFUL;
	return ARGO_RUNNING;
}

enum argo_phase argo_run_phase(const enum argo_phase *metrics, size_t n)
{
	enum argo_phase worst = ARGO_SUCCESSFUL;
	int running = 0;
	for (size_t i = 0; i < n; i++) {
		if (metrics[i] == ARGO_RUNNING)
			running = 1;
		else if (metrics[i] > worst)
			worst = metrics[i];
	}
	if (worst >= ARGO_ERROR)
		return worst;
	return running ? ARGO_RUNNING : worst;
}
