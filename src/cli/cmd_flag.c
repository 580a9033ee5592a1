/*
 * cmd_flag.c - `slipway flag`: feature flags and segments per environment
 * (docs/flags.md).  The runbook's appendix `feature-flag.sh list | set FLAG
 * --value V | get FLAG` and its agent-pack step `set agent:$PACK:enabled
 * --segment canary-users --value true` are `flag list`, `flag set`, `flag
 * get` here.  Every change goes through flag_store_put()/delete(): versioned,
 * audited.
 */
#include "adapters/flag_store.h"
#include "adapters/store.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/vocab.h"
#include "core/flag.h"
#include "core/flag_file.h"
#include "core/flag_rollout.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char usage_flag[] =
	"usage: slipway flag list [--env ENV] [-o json]\n"
	"       slipway flag get FLAG [--env ENV] [-o json]\n"
	"       slipway flag create FLAG [--type boolean|string|number|object] [--json DEFINITION] [--env ENV]\n"
	"       slipway flag set FLAG [--value V] [--segment NAME] [--percentage N] [--stickiness ATTR]\n"
	"                             [--enabled true|false] [--json DEFINITION] [--env ENV] [--reason TEXT]\n"
	"       slipway flag delete FLAG [--env ENV] [--reason TEXT]\n"
	"       slipway flag history [FLAG] [--env ENV] [-o json]\n"
	"       slipway flag segment NAME [--users ID,...] [--where 'ATTR in V1,V2'] [--delete] [--env ENV]\n"
	"                             (sets the segment's whole definition: list every user and condition)\n"
	"       slipway flag apply FILE|DIR... [--env ENV] [-o json]\n"
	"       slipway flag eval FLAG [--context JSON] [--env ENV] [-o json]\n"
	"\n"
	"Feature flags and segments of an environment (production by default), each change a new\n"
	"version and an audit entry.  set --value V: the default becomes the variant of value V;\n"
	"with --segment NAME: a rule serves it to the segment; with --percentage N: a rollout rule\n"
	"serves it to N% of the targeting keys (Unleash's bucketing).  apply reads flags/*.yaml\n"
	"(docs/flags.md).  Exit codes: 0 done, 1 refused in this state, 2 bad usage or input, 3 store.\n";

#define DEFAULT_ENV "production"

static json_t *record_json(const struct flag_record *r)
{
	char t[RFC3339_BUFSZ];
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "name", r->name, "env", r->env, "version",
			      (json_int_t)r->version, "updated_at", time_format_rfc3339(r->at_ms, t), "updated_by",
			      r->actor);
	json_object_set(j, "definition", r->def ? r->def : json_null());
	return j;
}

static int fail(int r, struct strbuf *err)
{
	cli_error("%s", err->buf);
	strbuf_release(err);
	return cli_exit(r);
}

/* Parse text V as a value of type T. */
static json_t *parse_value(const char *type, const char *v, struct strbuf *err)
{
	json_t *j = NULL;
	if (!strcmp(type, "string"))
		return json_string(v);
	if (!strcmp(type, "boolean")) {
		if (!strcmp(v, "true") || !strcmp(v, "on"))
			return json_true();
		if (!strcmp(v, "false") || !strcmp(v, "off"))
			return json_false();
	} else {
		j = json_loads(v, JSON_DECODE_ANY, NULL);
		if (j && flag_value_fits(type, j))
			return j;
		json_decref(j);
	}
	strbuf_errf(err, "--value '%s' is not a %s value%s", v, type,
		    !strcmp(type, "boolean") ? " (true or false)" : !strcmp(type, "number") ? " (e.g. 42 or 0.5)" : " (JSON)");
	return NULL;
}

/* The name of the variant of value v, adding one when there is none. */
static const char *variant_for(json_t *def, json_t *v)
{
	json_t *vars = json_object_get(def, "variants"), *x;
	const char *k;
	char name[64];
	json_object_foreach(vars, k, x)
		if (json_equal(x, v))
			return k;
	if (json_is_string(v) && flag_name_ok(json_string_value(v)) && json_string_length(v) < 60)
		snprintf(name, sizeof(name), "%s", json_string_value(v));
	else
		snprintf(name, sizeof(name), "v%zu", json_object_size(vars) + 1);
	json_object_set(vars, name, v);
	return json_object_iter_key(json_object_iter_at(vars, name));
}

/* The index of the rule named name, or -1. */
static int rule_named(json_t *rules, const char *name)
{
	json_t *r;
	size_t i;
	json_array_foreach(rules, i, r)
		if (json_string_value(json_object_get(r, "name")) && !strcmp(json_string_value(json_object_get(r, "name")), name))
			return (int)i;
	return -1;
}

/* Apply set's options to def (a copy of the current definition). */
static int edit(json_t *def, const char *value, const char *segment, const char *percentage, const char *stickiness,
		const char *enabled, struct strbuf *err)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	json_t *rules = json_object_get(def, "rules");
	const char *variant = NULL;

	if (enabled) {
		if (strcmp(enabled, "true") && strcmp(enabled, "false")) {
			strbuf_errf(err, "--enabled takes true or false, not '%s'", enabled);
			return SW_EUSAGE;
		}
		json_object_set_new(def, "enabled", json_boolean(!strcmp(enabled, "true")));
	}
	if (value) {
		json_t *v = parse_value(type, value, err);
		if (!v)
			return SW_EUSAGE;
		variant = variant_for(def, v);
		json_decref(v);
	} else if (segment || percentage) {
		/* a boolean flag's segment or rollout serves true unless told */
		json_t *t = json_true();
		if (strcmp(type, "boolean")) {
			json_decref(t);
			strbuf_errf(err, "--segment and --percentage need --value for a %s flag (what they serve)", type);
			return SW_EUSAGE;
		}
		variant = variant_for(def, t);
		json_decref(t);
	}
	if (!json_is_array(rules)) {
		json_object_set_new(def, "rules", json_array());
		rules = json_object_get(def, "rules");
	}
	if (percentage) {
		char *end;
		long p = strtol(percentage, &end, 10);
		struct strbuf name = STRBUF_INIT;
		json_t *rule;
		int i;
		if (*end == '%')
			end++;
		if (end == percentage || *end || p < 0 || p > 100) {
			strbuf_errf(err, "--percentage takes a whole number from 0 to 100, not '%s'", percentage);
			return SW_EUSAGE;
		}
		strbuf_addf(&name, "rollout%s%s", segment ? ":" : "", segment ? segment : "");
		/* without a segment: the flag's rollout rule, a flag file's unnamed one included (docs/flags.md) */
		i = segment ? rule_named(rules, name.buf) : flag_rollout_rule(def, err);
		if (i == SW_ESTATE) {
			strbuf_release(&name);
			return i;
		}
		if (i < 0) {
			rule = json_pack("{s:s}", "name", name.buf);
			if (segment)
				json_object_set_new(rule, "segments", json_pack("[s]", segment));
			json_array_append_new(rules, rule);
		} else {
			rule = json_array_get(rules, (size_t)i);
		}
		strbuf_release(&name);
		{
			/* the rule's own stickiness (unless --stickiness changes it) and group stay: a new
			 * percentage must not move anyone to another bucket */
			json_t *ro = json_object_get(rule, "rollout");
			const char *stick = stickiness ? stickiness : json_string_value(json_object_get(ro, "stickiness"));
			json_t *nro = json_pack("{s:i, s:s}", "percentage", (int)p, "stickiness", stick ? stick : "targetingKey");
			if (json_string_value(json_object_get(ro, "group")))
				json_object_set(nro, "group", json_object_get(ro, "group"));
			json_object_set_new(rule, "rollout", nro);
		}
		json_object_set_new(rule, "serve", json_string(variant));
		json_object_del(rule, "split");
		return 0;
	}
	if (segment) {
		struct strbuf name = STRBUF_INIT;
		int i;
		strbuf_addf(&name, "segment:%s", segment);
		if ((i = flag_segment_rule(def, segment)) < 0)
			json_array_insert_new(rules, 0, json_pack("{s:s, s:[s], s:s}", "name", name.buf, "segments", segment,
							     "serve", variant));
		else
			json_object_set_new(json_array_get(rules, (size_t)i), "serve", json_string(variant));
		strbuf_release(&name);
		return 0;
	}
	if (variant)
		json_object_set_new(def, "default", json_string(variant));
	return 0;
}

static void print_change(const struct cli_ctx *ctx, const char *kind, const char *name, const char *env, int64_t version,
			 int changed)
{
	if (ctx->output == OUTPUT_JSON) {
		json_t *j = cli_doc("FlagChange");
		json_object_update_new(j, json_pack("{s:s, s:s, s:s, s:I, s:b}", "kind_of", kind, "name", name, "env", env,
						    "version", (json_int_t)version, "changed", changed));
		cli_print_json(j);
	} else {
		printf("%s '%s' in '%s': version %lld%s\n", kind, name, env, (long long)version, changed ? "" : " (unchanged)");
	}
}

static void print_text(const struct flag_record *r)
{
	const char *k;
	json_t *v, *rule;
	size_t i;
	printf("%s '%s' (%s) in '%s': version %lld by %s, %s\n", r->kind, r->name,
	       json_string_value(json_object_get(r->def, "type")) ? json_string_value(json_object_get(r->def, "type"))
								  : "segment",
	       r->env, (long long)r->version, r->actor, json_is_false(json_object_get(r->def, "enabled")) ? "DISABLED" : "enabled");
	if (!strcmp(r->kind, FLAG_KIND_SEGMENT)) {
		char *t = json_dumps(r->def, JSON_COMPACT | JSON_SORT_KEYS);
		printf("  %s\n", t);
		free(t);
		return;
	}
	json_object_foreach(json_object_get(r->def, "variants"), k, v) {
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  variant %s = %s%s\n", k, t, !strcmp(k, json_string_value(json_object_get(r->def, "default")))
							  ? "   (default)" : "");
		free(t);
	}
	json_array_foreach(json_object_get(r->def, "rules"), i, rule) {
		char *t = json_dumps(rule, JSON_COMPACT);
		printf("  rule %zu: %s\n", i + 1, t);
		free(t);
	}
}

/* "ATTR in V1,V2" or "ATTR not_in V1,V2" (brackets allowed) as a condition. */
static json_t *parse_where(const char *s, struct strbuf *err)
{
	char attr[FLAG_KEY_MAX + 1], op[16];
	int n = 0;
	json_t *vals;
	const char *p;
	if (sscanf(s, "%200s %15s %n", attr, op, &n) < 2 || !n || (strcmp(op, "in") && strcmp(op, "not_in"))) {
		strbuf_errf(err, "--where '%s': write 'ATTRIBUTE in V1,V2' (or not_in), e.g. 'group in canary,beta'", s);
		return NULL;
	}
	vals = json_array();
	p = s + n;
	while (*p) {
		size_t len;
		while (*p == '[' || *p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ",]");
		while (len && p[len - 1] == ' ')
			len--;
		if (len)
			json_array_append_new(vals, json_stringn(p, len));
		p += len;
		while (*p == ']' || *p == ' ')
			p++;
	}
	return json_pack("{s:s, s:s, s:o}", "attribute", attr, "op", op, "values", vals);
}

int cli_segment_option(struct store *st, const char *env, const char *segment, struct strbuf *err)
{
	struct flag_record rec;
	int r;
	if (!flag_name_ok(segment)) {
		strbuf_errf(err, "--segment '%s' is not a segment name: 1 to %d letters, digits and . _ - : /", segment,
			    FLAG_KEY_MAX);
		return SW_EUSAGE;
	}
	if (!st)
		return 0;
	r = flag_store_get(st, env, FLAG_KIND_SEGMENT, segment, &rec, err);
	if (r == SW_ENOTFOUND) {
		strbuf_reset(err);
		strbuf_errf(err, "--segment '%s': no segment '%s' in environment '%s'; define it first ('slipway flag "
			    "segment %s --users ID,... --env %s', or a flag file's segments:)", segment, segment, env, segment,
			    env);
	}
	if (r >= 0)
		flag_record_release(&rec);
	return r;
}

static int apply_file(struct cli_ctx *ctx, struct store *st, const char *path, const char *env_opt, json_t *changes,
		      const char *by, int64_t now)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	struct flag_file f;
	const char *name, *env;
	json_t *def;
	int r;

	if ((r = strbuf_read_file_max(&buf, path, FLAG_FILE_MAX, &err)) < 0) {
		/* a file named on the command line that cannot be read (missing, too large, a directory's
		 * entry gone): bad input, exit 2, as for every command's input files */
		strbuf_release(&buf);
		cli_error("%s", err.buf);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	r = flag_file_parse(path, buf.buf, buf.len, &f, &err);
	strbuf_release(&buf);
	if (r < 0)
		return fail(r, &err);
	env = env_opt ? env_opt : f.environment ? f.environment : DEFAULT_ENV;
	if (env_opt && f.environment && strcmp(env_opt, f.environment)) {
		cli_error("%s names environment '%s' and --env says '%s'", path, f.environment, env_opt);
		flag_file_release(&f);
		return EXIT_USAGE;
	}
	if ((r = store_begin(st, &err)) < 0)
		goto out;
	for (int kind = 0; kind < 2 && r >= 0; kind++) {
		json_object_foreach(kind ? f.flags : f.segments, name, def) {
			int changed = 0, line = 0, col = 0;
			char at[300] = "";
			int64_t v = flag_store_put(st, env, kind ? FLAG_KIND_FLAG : FLAG_KIND_SEGMENT, name, def, FLAG_PUT_ANY,
						   by, path, now, &changed, at, sizeof(at), &err);
			if (v < 0) {
				struct strbuf m = STRBUF_INIT;
				if (flag_file_pos(&f, kind ? "flag" : "segment", name, at, &line, &col) == 0 && line > 0)
					strbuf_addf(&m, "%s:%d:%d: %s '%s': %s", path, line, col, kind ? "flag" : "segment", name,
						    err.buf);
				else
					strbuf_addf(&m, "%s: %s '%s': %s", path, kind ? "flag" : "segment", name, err.buf);
				strbuf_reset(&err);
				strbuf_addstr(&err, m.buf);
				strbuf_release(&m);
				r = (int)v;
				break;
			}
			json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:I, s:b}", "kind_of",
								 kind ? "flag" : "segment", "name", name, "env", env,
								 "version", (json_int_t)v, "changed", changed));
			if (ctx->output != OUTPUT_JSON)
				printf("%s '%s' in '%s': version %lld%s\n", kind ? "flag" : "segment", name, env, (long long)v,
				       changed ? "" : " (unchanged)");
		}
	}
	if (r >= 0)
		r = store_commit(st, &err);
	else
		store_rollback(st);
out:
	flag_file_release(&f);
	if (r < 0)
		return fail(r, &err);
	strbuf_release(&err);
	return EXIT_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* FILE, or every *.yaml / *.yml of DIR in name order. */
static int apply_path(struct cli_ctx *ctx, struct store *st, const char *path, const char *env, json_t *changes,
		      const char *by, int64_t now)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int rc = EXIT_OK;

	if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return apply_file(ctx, st, path, env, changes, by, now);
	if (!(d = opendir(path))) {
		cli_error("cannot read directory '%s'", path);
		return EXIT_USAGE;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if ((l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) || (l > 4 && !strcmp(e->d_name + l - 4, ".yml"))) {
			struct strbuf p = STRBUF_INIT;
			size_t pl = strlen(path);
			while (pl > 1 && path[pl - 1] == '/')
				pl--;	/* flags/ and flags name the same directory: no "flags//a.yaml" */
			strbuf_addf(&p, "%.*s/%s", (int)pl, path, e->d_name);
			ALLOC_GROW(names, n + 1, alloc);
			names[n++] = strbuf_detach(&p, NULL);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (rc == EXIT_OK)
			rc = apply_file(ctx, st, names[i], env, changes, by, now);
		free(names[i]);
	}
	free(names);
	return rc;
}

int cmd_flag(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *env = NULL, *type = NULL, *json_def = NULL, *value = NULL, *segment = NULL, *percentage = NULL,
		   *stickiness = NULL, *enabled = NULL, *reason = NULL, *users = NULL, *where = NULL, *context = NULL;
	int del = 0;
	const struct cli_option opts[] = {
		CLI_STRING("env", 0, &env),
		CLI_STRING("type", 0, &type),
		CLI_STRING("json", 0, &json_def),
		CLI_STRING("value", 0, &value),
		CLI_STRING("segment", 0, &segment),
		CLI_STRING("percentage", 0, &percentage),
		CLI_STRING("stickiness", 0, &stickiness),
		CLI_STRING("enabled", 0, &enabled),
		CLI_STRING("reason", 0, &reason),
		CLI_STRING("users", 0, &users),
		CLI_STRING("where", 0, &where),
		CLI_STRING("context", 0, &context),
		CLI_FLAG("delete", 0, &del),
		CLI_OPTIONS_END,
	};
	static const char *const subs[] = { "list", "get", "create", "set", "delete", "history", "segment", "apply",
					    "eval", NULL };
	/* released on every return (strbuf_release() leaves an empty strbuf, so fail()'s release is harmless) */
	struct strbuf err __attribute__((cleanup(strbuf_release))) = STRBUF_INIT;
	struct store *st;
	const char *sub, *by, *identity = NULL, *e;
	char **args;
	int nargs, rc, r;
	int64_t now;
	size_t i;

	if ((rc = cli_parse(ctx, argc, argv, opts, &args, &nargs)) != EXIT_OK)
		return rc;
	sub = args[0];
	for (i = 0; subs[i] && strcmp(subs[i], sub); i++)
		;
	if (!subs[i])
		return cli_usage_error(ctx, "flag", "unknown subcommand '%s'; valid: list, get, create, set, delete, "
				       "history, segment, apply, eval", sub);
	e = env ? env : DEFAULT_ENV;
	if (!flag_name_ok(e))
		return cli_usage_error(ctx, "flag", "--env must be a name (letters, digits, . _ - : /)");
	if (strcmp(sub, "list") && strcmp(sub, "history") && strcmp(sub, "apply") && nargs != 2)
		return cli_usage_error(ctx, "flag", "'flag %s' takes one name", sub);
	if ((!strcmp(sub, "list") && nargs != 1) || (!strcmp(sub, "history") && nargs > 2) ||
	    (!strcmp(sub, "apply") && nargs < 2))
		return cli_usage_error(ctx, "flag", "'flag %s' takes %s", sub,
				       !strcmp(sub, "apply") ? "one or more files or directories" : "no more than a name");
	by = cli_caller(&identity);
	now = cli_now_ms();

	if (!strcmp(sub, "list") || !strcmp(sub, "get") || !strcmp(sub, "history") || !strcmp(sub, "eval")) {
		if ((rc = cli_store_read(ctx, &st)) != EXIT_OK)
			return rc;
	} else if ((rc = cli_store(ctx, &st)) != EXIT_OK) {
		return rc;
	}

	if (!strcmp(sub, "list")) {
		struct flag_record *f = NULL, *s = NULL;
		size_t nf = 0, ns = 0;
		if ((r = flag_store_list(st, e, FLAG_KIND_FLAG, &f, &nf, &err)) < 0 ||
		    (r = flag_store_list(st, e, FLAG_KIND_SEGMENT, &s, &ns, &err)) < 0) {
			flag_records_free(f, nf);
			return fail(r, &err);
		}
		if (ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc("FlagList"), *fa = json_array(), *sa = json_array();
			for (i = 0; i < nf; i++)
				json_array_append_new(fa, record_json(&f[i]));
			for (i = 0; i < ns; i++)
				json_array_append_new(sa, record_json(&s[i]));
			json_object_set_new(j, "env", json_string(e));
			json_object_set_new(j, "flags", fa);
			json_object_set_new(j, "segments", sa);
			cli_print_json(j);
		} else {
			if (!nf && !ns)
				printf("no flags in '%s'\n", e);
			for (i = 0; i < nf; i++) {
				struct flag_result res;
				json_t *none = json_object();
				const char *dflt = json_string_value(json_object_get(f[i].def, "default"));
				char *t = json_dumps(json_object_get(json_object_get(f[i].def, "variants"), dflt),
						     JSON_COMPACT | JSON_ENCODE_ANY);
				(void)res;
				printf("%-40s %-8s v%-4lld default %s = %s, %zu rule%s%s\n", f[i].name,
				       json_string_value(json_object_get(f[i].def, "type")), (long long)f[i].version, dflt, t,
				       json_array_size(json_object_get(f[i].def, "rules")),
				       json_array_size(json_object_get(f[i].def, "rules")) == 1 ? "" : "s",
				       json_is_false(json_object_get(f[i].def, "enabled")) ? ", DISABLED" : "");
				free(t);
				json_decref(none);
			}
			for (i = 0; i < ns; i++)
				printf("segment %-32s v%lld\n", s[i].name, (long long)s[i].version);
		}
		flag_records_free(f, nf);
		flag_records_free(s, ns);
		return EXIT_OK;
	}
	if (!strcmp(sub, "get")) {
		struct flag_record rec;
		if ((r = flag_store_get(st, e, FLAG_KIND_FLAG, args[1], &rec, &err)) == SW_ENOTFOUND) {
			strbuf_reset(&err);
			r = flag_store_get(st, e, FLAG_KIND_SEGMENT, args[1], &rec, &err);
			if (r == SW_ENOTFOUND) {
				strbuf_reset(&err);
				strbuf_errf(&err, "no flag '%s' in environment '%s'; see 'slipway flag list --env %s'", args[1], e, e);
			}
		}
		if (r < 0)
			return fail(r, &err);
		if (ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc(!strcmp(rec.kind, FLAG_KIND_FLAG) ? "Flag" : "Segment");
			json_object_update_new(j, record_json(&rec));
			cli_print_json(j);
		} else {
			print_text(&rec);
		}
		flag_record_release(&rec);
		return EXIT_OK;
	}
	if (!strcmp(sub, "history")) {
		struct flag_record *h = NULL;
		size_t n = 0;
		const char *kind = FLAG_KIND_FLAG;
		if (nargs == 2) {
			struct flag_record rec;
			/* a segment's history when only a segment has that name */
			if (flag_store_history(st, e, FLAG_KIND_FLAG, args[1], &h, &n, &err) >= 0 && n == 0 &&
			    flag_store_get(st, e, FLAG_KIND_SEGMENT, args[1], &rec, &err) >= 0) {
				kind = FLAG_KIND_SEGMENT;
				flag_record_release(&rec);
			}
			flag_records_free(h, n);
			h = NULL;
			n = 0;
			strbuf_reset(&err);
		}
		if ((r = flag_store_history(st, e, kind, nargs == 2 ? args[1] : NULL, &h, &n, &err)) < 0)
			return fail(r, &err);
		if (nargs == 2 && n == 0) {
			strbuf_errf(&err, "no flag '%s' was ever in environment '%s'", args[1], e);
			return fail(SW_ENOTFOUND, &err);
		}
		if (ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc("FlagHistory"), *a = json_array();
			for (i = 0; i < n; i++) {
				json_t *c = record_json(&h[i]);
				char t[RFC3339_BUFSZ];
				json_object_del(c, "updated_at");
				json_object_del(c, "updated_by");
				json_object_set_new(c, "kind_of", json_string(h[i].kind));
				json_object_set_new(c, "at", json_string(time_format_rfc3339(h[i].at_ms, t)));
				json_object_set_new(c, "actor", json_string(h[i].actor));
				json_object_set_new(c, "action", json_string(h[i].action));
				json_object_set_new(c, "reason", h[i].reason ? json_string(h[i].reason) : json_null());
				json_object_set_new(c, "audit_id", json_integer(h[i].audit_id));
				json_array_append_new(a, c);
			}
			json_object_set_new(j, "env", json_string(e));
			json_object_set_new(j, "changes", a);
			cli_print_json(j);
		} else {
			for (i = 0; i < n; i++) {
				char t[RFC3339_BUFSZ];
				printf("%s  %s %-30s v%-4lld %-8s by %s%s%s (audit #%lld)\n", time_format_rfc3339(h[i].at_ms, t),
				       h[i].kind, h[i].name, (long long)h[i].version, h[i].action, h[i].actor,
				       h[i].reason ? ": " : "", h[i].reason ? h[i].reason : "", (long long)h[i].audit_id);
			}
		}
		flag_records_free(h, n);
		return EXIT_OK;
	}
	if (!strcmp(sub, "eval")) {
		struct flag_record rec;
		struct flag_result res;
		json_t *ctxj = context ? json_loads(context, 0, NULL) : json_object(), *segs = NULL;
		if (!json_is_object(ctxj)) {
			json_decref(ctxj);
			return cli_usage_error(ctx, "flag", "--context must be a JSON object, e.g. '{\"targetingKey\": \"u1\"}'");
		}
		if (json_object_get(ctxj, "targetingKey") && !json_is_string(json_object_get(ctxj, "targetingKey")) &&
		    !json_is_null(json_object_get(ctxj, "targetingKey"))) {
			/* as OFREP answers it: 400 INVALID_CONTEXT */
			json_decref(ctxj);
			return cli_usage_error(ctx, "flag", "--context: targetingKey must be a string (INVALID_CONTEXT, as "
					       "OFREP answers it)");
		}
		if ((r = flag_store_get(st, e, FLAG_KIND_FLAG, args[1], &rec, &err)) < 0 ||
		    (r = flag_store_segments(st, e, &segs, &err)) < 0) {
			json_decref(ctxj);
			return fail(r, &err);
		}
		flag_evaluate(rec.def, rec.name, segs, ctxj, &res);
		if (ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc("FlagEvaluation");
			json_object_set_new(j, "key", json_string(rec.name));
			json_object_set_new(j, "env", json_string(e));
			json_object_set_new(j, "version", json_integer(rec.version));
			json_object_set_new(j, "reason", json_string(flag_reason_name(res.reason)));
			if (res.reason == FLAG_ERROR) {
				json_object_set_new(j, "errorCode", json_string(flag_error_name(res.error)));
				json_object_set_new(j, "errorDetails", json_string(res.detail));
			} else {
				json_object_set_new(j, "variant", json_string(res.variant));
				json_object_set(j, "value", (json_t *)res.value);
			}
			cli_print_json(j);
		} else if (res.reason == FLAG_ERROR) {
			printf("%s: %s\n", flag_error_name(res.error), res.detail);
		} else {
			char *t = json_dumps(res.value, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s = %s (variant %s, %s%s)\n", rec.name, t, res.variant, flag_reason_name(res.reason),
			       res.rule >= 0 ? ", a rule" : "");
			free(t);
		}
		flag_record_release(&rec);
		json_decref(ctxj);
		json_decref(segs);
		return res.reason == FLAG_ERROR ? EXIT_NO : EXIT_OK;
	}
	if (!strcmp(sub, "delete")) {
		if ((r = flag_store_delete(st, e, FLAG_KIND_FLAG, args[1], by, reason, now, &err)) < 0)
			return fail(r, &err);
		if (ctx->output == OUTPUT_JSON)
			print_change(ctx, "flag", args[1], e, 0, 1);
		else
			printf("flag '%s' deleted from '%s'\n", args[1], e);
		return EXIT_OK;
	}
	if (!strcmp(sub, "segment")) {
		json_t *def;
		int changed = 0;
		int64_t v;
		if (del) {
			if ((r = flag_store_delete(st, e, FLAG_KIND_SEGMENT, args[1], by, reason, now, &err)) < 0)
				return fail(r, &err);
			print_change(ctx, "segment", args[1], e, 0, 1);
			return EXIT_OK;
		}
		if (!users && !where)
			return cli_usage_error(ctx, "flag", "'flag segment NAME' needs --users ID,... and/or --where 'ATTR in V,...'");
		def = json_object();
		if (users) {
			json_t *a = json_array();
			const char *p = users;
			while (*p) {
				size_t len = strcspn(p, ",");
				if (len)
					json_array_append_new(a, json_stringn(p, len));
				p += len + (p[len] == ',');
			}
			json_object_set_new(def, "user_ids", a);
		}
		if (where) {
			json_t *c = parse_where(where, &err);
			if (!c) {
				json_decref(def);
				return fail(SW_EUSAGE, &err);
			}
			json_object_set_new(def, "conditions", json_pack("[o]", c));
		}
		v = flag_store_put(st, e, FLAG_KIND_SEGMENT, args[1], def, FLAG_PUT_ANY, by, reason, now, &changed, NULL, 0,
				   &err);
		json_decref(def);
		if (v < 0)
			return fail((int)v, &err);
		print_change(ctx, "segment", args[1], e, v, changed);
		return EXIT_OK;
	}
	if (!strcmp(sub, "apply")) {
		json_t *changes = json_array();
		for (int a = 1; a < nargs && rc == EXIT_OK; a++)
			rc = apply_path(ctx, st, args[a], env, changes, by, now);
		if (rc == EXIT_OK && ctx->output == OUTPUT_JSON) {
			json_t *j = cli_doc("FlagApply");
			json_object_set_new(j, "changes", changes);
			cli_print_json(j);
		} else {
			json_decref(changes);
		}
		return rc;
	}
	/* create, set */
	{
		json_t *def = NULL;
		int changed = 0;
		int64_t v;
		char path[300];
		if (json_def) {
			json_error_t je;
			if (!(def = json_loads(json_def, 0, &je)) || !json_is_object(def)) {
				json_decref(def);
				return cli_usage_error(ctx, "flag", "--json: not a JSON object (%s at column %d)", je.text,
						       je.column);
			}
		}
		if (!strcmp(sub, "create")) {
			if (value || segment || percentage || enabled)
				return cli_usage_error(ctx, "flag", "create takes --type and --json; then 'flag set' changes it");
			if (type) {
				/* before anything else: "a wat flag needs its variants" would send the user
				 * after variants for a type that does not exist */
				for (i = 0; flag_types[i] && strcmp(flag_types[i], type); i++)
					;
				if (!flag_types[i]) {
					const char *near = suggest_nearest0(type, flag_types);
					json_decref(def);
					return cli_usage_error(ctx, "flag", "--type '%s' is not a flag type%s%s%s; valid: boolean, "
							       "string, number, object", type, near ? " (did you mean '" : "",
							       near ? near : "", near ? "'?)" : "");
				}
			}
			if (!def)
				def = json_object();
			if (type && strcmp(type, "boolean") && !json_object_get(def, "variants")) {
				json_decref(def);
				return cli_usage_error(ctx, "flag", "a %s flag needs its variants: --json '{\"variants\": "
						       "{\"a\": ..., \"b\": ...}, \"default\": \"a\"}' (docs/flags.md); "
						       "only a boolean flag has its variants (on, off) by itself", type);
			}
			if (type)
				json_object_set_new(def, "type", json_string(type));
			v = flag_store_put(st, e, FLAG_KIND_FLAG, args[1], def, FLAG_PUT_CREATE, by, reason, now, &changed,
					   path, sizeof(path), &err);
		} else {
			struct flag_record cur;
			if (type)
				return cli_usage_error(ctx, "flag", "a flag's type is set at create; delete and create it to change it");
			if (def && (value || segment || percentage || enabled || stickiness)) {
				json_decref(def);
				return cli_usage_error(ctx, "flag", "--json is the whole new definition: give it alone, or "
						       "change the flag with --value, --segment, --percentage and --enabled "
						       "without it");
			}
			if (!def && !value && !segment && !percentage && !enabled)
				return cli_usage_error(ctx, "flag", "'flag set' needs --value, --segment, --percentage, --enabled "
						       "or --json");
			if (segment && cli_segment_option(NULL, e, segment, &err) < 0)
				return cli_usage_error(ctx, "flag", "%s", err.buf);
			if (!def) {
				if ((r = flag_store_get(st, e, FLAG_KIND_FLAG, args[1], &cur, &err)) < 0)
					return fail(r, &err);
				/* the option named, not the rule path ("rules[0].segments[0]") the store would name */
				if (segment && (r = cli_segment_option(st, e, segment, &err)) < 0) {
					flag_record_release(&cur);
					return fail(r, &err);
				}
				def = json_deep_copy(cur.def);
				flag_record_release(&cur);
				if ((r = edit(def, value, segment, percentage, stickiness, enabled, &err)) < 0) {
					json_decref(def);
					return fail(r, &err);
				}
			}
			v = flag_store_put(st, e, FLAG_KIND_FLAG, args[1], def, FLAG_PUT_UPDATE, by, reason, now, &changed,
					   path, sizeof(path), &err);
		}
		json_decref(def);
		if (v < 0)
			return fail((int)v, &err);
		print_change(ctx, "flag", args[1], e, v, changed);
		return EXIT_OK;
	}
}
