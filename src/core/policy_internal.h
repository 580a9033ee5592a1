/*
 * policy_internal.h - what policy_default.c, policy_load.c and
 * policy_show.c share (the `policy__` prefix: not for other modules, which
 * use policy.h).  Strings owned by the lists and entries are freed by
 * policy_release().
 */
#ifndef SLIPWAY_CORE_POLICY_INTERNAL_H
#define SLIPWAY_CORE_POLICY_INTERNAL_H

#include "core/policy-t.h"

/* Lists of names: add a copy of s with its mark; free all; 1 if s is listed;
 * replace by the NULL-terminated v[] (built-in entries, no marks). */
void policy__names_add(struct policy_names *l, const char *s, struct pmark m);
void policy__names_clear(struct policy_names *l);
int policy__names_has(const struct policy_names *l, const char *s);
void policy__names_set(struct policy_names *l, const char *const *v);
/* Replace *dst by a copy of s (NULL: none). */
void policy__set_str(char **dst, const char *s);

/* The entry called name, created (empty, with the loader's "not given"
 * markers) when create is set and it does not exist; else NULL. */
struct policy_role *policy__role_get(struct policy *p, const char *name, int create);
struct policy_class *policy__class_get(struct policy *p, const char *name, int create);
struct policy_window *policy__window_get(struct policy *p, const char *name, int create);
struct policy_freeze *policy__freeze_get(struct policy *p, const char *name, int create);
struct policy_type *policy__type_get(struct policy *p, const char *name, int create);
void policy__role_release(struct policy_role *r);
void policy__class_release(struct policy_class *c);
void policy__window_release(struct policy_window *w);
void policy__freeze_release(struct policy_freeze *f);
void policy__type_release(struct policy_type *t);

/* A policy with no entries: `base: none` (source copied). */
void policy__init_empty(struct policy *p, const char *source);

/* Enum names as the file spells them, indexed by the enum, NULL-terminated. */
extern const char *const policy__criterion_names[];
extern const char *const policy__freeze_kind_names[];
extern const char *const policy__window_close_names[];
extern const char *const policy__host_lost_names[];
extern const char *const policy__metric_names[];
extern const enum policy_metric_unit policy__metric_units[];
/* "sun".."sat" and "sunday".."saturday", 7 each. */
extern const char *const policy__day_names[];
extern const char *const policy__day_long[];

#endif
