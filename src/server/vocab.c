/* vocab.c - the JSON vocabulary of every command's -o json; see vocab.h. */
#include "server/vocab.h"
#include "adapters/incidents.h"
#include "adapters/notify.h"
#include "adapters/records.h"
#include "base/timeutil.h"
#include "core/approval.h"

json_t *vocab_doc(const char *kind)
{
	return json_pack("{s:s, s:s}", "apiVersion", VOCAB_API_VERSION, "kind", kind);
}

json_t *vocab_list_doc(const char *kind, json_t *items)
{
	json_t *j = vocab_doc(kind);
	json_object_set_new(j, "items", items);
	return j;
}

void vocab_json_time(json_t *o, const char *key, int64_t ms)
{
	char b[RFC3339_BUFSZ];
	json_object_set_new(o, key, ms == RECORD_TIME_NONE || ms == 0 ? json_null()
								    : json_string(time_format_rfc3339(ms, b)));
}

void vocab_json_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

json_t *vocab_deployment_json(const struct deployment_record *d)
{
	json_t *o = json_object();
	int64_t start = d->started_ms != RECORD_TIME_NONE ? d->started_ms : d->created_ms;
	int have_dur = d->finished_ms != RECORD_TIME_NONE && start != RECORD_TIME_NONE;

	json_object_set_new(o, "id", json_integer(d->id));
	vocab_json_str(o, "service", d->service);
	vocab_json_str(o, "env", d->env);
	vocab_json_str(o, "version", d->version);
	vocab_json_str(o, "from_version", d->from_version && *d->from_version ? d->from_version : NULL);
	json_object_set_new(o, "revision", json_integer(d->revision));
	vocab_json_str(o, "type", d->type);
	vocab_json_str(o, "class", d->class_);
	vocab_json_str(o, "strategy", d->strategy);
	vocab_json_str(o, "state", d->state);
	json_object_set_new(o, "step", json_integer(d->step));
	json_object_set_new(o, "weight", json_real(d->weight));
	json_object_set_new(o, "failed_checks", json_integer(d->failed_checks));
	vocab_json_str(o, "reason", d->reason);
	vocab_json_str(o, "requested_by", d->requested_by);
	vocab_json_time(o, "created_at", d->created_ms);
	vocab_json_time(o, "started_at", d->started_ms);
	vocab_json_time(o, "updated_at", d->state_since_ms);
	vocab_json_time(o, "finished_at", d->finished_ms);
	json_object_set_new(o, "duration_s", have_dur ? json_integer((d->finished_ms - start) / 1000) : json_null());
	json_object_set_new(o, "waited_s", d->waited_ms != RECORD_TIME_NONE ? json_integer(d->waited_ms / 1000) :
			    json_null());
	json_object_set_new(o, "ran_s", d->ran_ms != RECORD_TIME_NONE ? json_integer(d->ran_ms / 1000) : json_null());
	vocab_json_str(o, "commit_sha", d->commit_sha);
	vocab_json_time(o, "commit_time", d->commit_time_ms);
	vocab_json_str(o, "emergency_reason", d->emergency_reason);
	json_object_set_new(o, "time_scale", json_real(d->time_scale > 1 ? d->time_scale : 1));
	json_object_set_new(o, "steps", json_integer(d->n_steps));
	vocab_json_time(o, "hold_until", d->hold_until_ms);
	return o;
}

json_t *vocab_transition_json(const struct transition_record *t)
{
	json_t *o = json_object();
	vocab_json_time(o, "at", t->at_ms);
	vocab_json_str(o, "from", t->from_state);
	vocab_json_str(o, "to", t->to_state);
	json_object_set_new(o, "step", json_integer(t->step));
	json_object_set_new(o, "weight", json_real(t->weight));
	vocab_json_str(o, "reason", t->reason);
	if (t->detail_json) {
		json_t *dj = json_loads(t->detail_json, 0, NULL);
		json_object_set_new(o, "detail", dj ? dj : json_string(t->detail_json));
	}
	return o;
}

json_t *vocab_transition_event_json(const struct transition_event *e)
{
	json_t *o = vocab_transition_json(&e->t);
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "deployment_id", json_integer(e->deployment_id));
	vocab_json_str(o, "service", e->service);
	vocab_json_str(o, "env", e->env);
	vocab_json_str(o, "version", e->version);
	return o;
}

json_t *vocab_approval_json(const struct approval *a, const char *comment, const char *identity)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(a->id));
	json_object_set_new(o, "deployment_id", json_integer(a->deployment_id));
	vocab_json_str(o, "role", a->role);
	vocab_json_str(o, "by", a->approver);
	json_object_set_new(o, "decision", json_string(a->decision == APPROVAL_APPROVED ? "approved" : "rejected"));
	vocab_json_time(o, "at", a->at_ms);
	vocab_json_str(o, "comment", comment);
	vocab_json_str(o, "identity", identity);
	return o;
}

json_t *vocab_incident_json(const struct incident *i)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(i->id));
	vocab_json_str(o, "service", i->service);
	vocab_json_str(o, "env", i->env);
	vocab_json_str(o, "title", i->title);
	json_object_set_new(o, "state", json_string(i->resolved_ms ? "resolved" : "open"));
	vocab_json_str(o, "opened_by", i->opened_by);
	vocab_json_time(o, "created_at", i->opened_ms);
	vocab_json_str(o, "resolved_by", i->resolved_ms ? i->resolved_by : NULL);
	vocab_json_time(o, "resolved_at", i->resolved_ms);
	json_object_set_new(o, "deployment_id", i->deployment_id ? json_integer(i->deployment_id) : json_null());
	return o;
}

json_t *vocab_delivery_json(const struct notify_delivery_row *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "message_id", json_integer(m->message_id));
	json_object_set_new(o, "deployment_id", m->deployment_id ? json_integer(m->deployment_id) : json_null());
	vocab_json_str(o, "kind", m->kind);
	vocab_json_str(o, "channels", m->channels);
	vocab_json_str(o, "sink", m->sink);
	vocab_json_str(o, "state", m->state);
	json_object_set_new(o, "attempts", json_integer(m->attempts));
	json_object_set_new(o, "last_status", m->last_status ? json_integer(m->last_status) : json_null());
	vocab_json_str(o, "last_error", m->last_error);
	vocab_json_time(o, "created_at", m->created_ms);
	vocab_json_time(o, "updated_at", m->updated_ms);
	vocab_json_time(o, "next_attempt_at", m->next_attempt_ms);
	vocab_json_time(o, "sent_at", m->sent_ms);
	return o;
}
