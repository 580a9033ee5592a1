# followup-serve.sh - post-deployment follow-up under `slipway serve`
# (docs/checklists.md "Post-deployment follow-up"; HAProxy on 127.0.0.1),
# with deployments at --time-scale 3600 so an engine hour is a wall second:
# a standard deployment that succeeds is followed up (its manual items
# reminded in POST-DEPLOYMENT FOLLOW-UP, ticked with `slipway checklist
# tick`); its integration health is its service's smoke checks; its immediate check, without a baseline (no traffic before it), is
# recorded unchecked with the reason, never a silent pass; an emergency's
# post-mortem is said overdue, its monitoring looks on until the post-mortem
# is ticked, then ends; `slipway checklist -o json` shows it all.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
unset SLIPWAY_USER
{ cat "$SLIPWAY_SRC/examples/lab-policy.yaml"
  cat <<'YAML'
types:
  standard:
    approvals: []
  emergency:
    approvals: []
followup:
  remind_every: 1h
  postmortem_within: 3h
  monitor_every: 1h
YAML
} >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"

make_project api 1 "analysis: {steps: [{weight: 10, hold: 60m}, {weight: 50, hold: 60m}]}
smoke: [{method: GET, path: /health, status: 200}]"
make_release api v1 0 0
make_release api v2 0 0
make_release api v3 0 0
run_slipway start api v1
is "$rc" 0 "v1 is the stable revision"

"$SLIPWAY" serve >"$T/serve.log" 2>&1 &
SERVE_PID=$!
stop_serve() { kill -TERM "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; }
at_exit stop_serve
for _ in $(seq 1 100); do grep -q "slipway serve: store" "$T/serve.log" && break; sleep 0.1; done

# run DEPLOYMENT to success: promote it through its steps and its monitoring
succeed() {
  wait_sql "select state from deployments where id=$1" progressing
  run_slipway promote "$1" --full
  for _ in $(seq 1 300); do
    case "$(store_sql "select state from deployments where id=$1")" in
      succeeded) return 0 ;;
      monitoring) "$SLIPWAY" promote "$1" >/dev/null 2>&1 ;;
    esac
    sleep 0.1
  done
  return 1
}
proof() { store_sql "select state || ': ' || evidence from checklist_proofs where deployment_id=$1 and item='$2'"; }

# ---- a standard deployment ----
run_slipway deploy api v2 --time-scale 3600
is "$rc" 0 "deploy records v2 for serve"
id=$(store_sql "select id from deployments where version='v2'")
succeed "$id"
ok $? "v2 succeeded"
wait_sql "select count(*) from followups where deployment_id=$id" 1
ok $? "serve starts its follow-up"
wait_sql "select count(*) > 0 from notify_messages where kind='followup' and deployment_id=$id" 1
like "$(store_sql "select text from notify_messages where kind='followup' and deployment_id=$id order by id limit 1")" \
  "Reason: customer-complaints \(who: anyone, (due|overdue since) .*slipway checklist tick $id ITEM" \
  "the open manual items are reminded, with who and when, and how to tick them"
for _ in $(seq 1 100); do grep -q "POST-DEPLOYMENT FOLLOW-UP" "$SLIPWAY_STATE_DIR/notifications.log" 2>/dev/null && break; sleep 0.1; done
like "$(cat "$SLIPWAY_STATE_DIR/notifications.log")" "POST-DEPLOYMENT FOLLOW-UP" "delivered to the deployments channel"
run_slipway checklist tick "$id" customer-complaints
is "$rc" 0 "checklist tick records a post-deployment item"
for _ in $(seq 1 100); do [ -n "$(proof "$id" monitor-errors-latency)" ] && break; sleep 0.1; done
like "$(proof "$id" monitor-errors-latency)" "^unchecked: .*no baseline to compare with" \
  "after the immediate horizon (2 s here) its check without a baseline is unchecked, saying why"
like "$(cat "$T/serve.log")" "follow-up of deployment #$id: monitor-errors-latency: unchecked" "serve says so"
like "$(proof "$id" integration-health)" "^satisfied: .*1 smoke check passed on every running instance of v2" \
  "integration health: the service's smoke checks pass on v2"
run_slipway checklist "$id" -o json
is "$rc" 0 "checklist -o json"
schema_ok "$out" Checklist "it validates against Checklist.json"
is "$(json_get "$out" '[i["state"] for i in d["items"] if i["id"] == "customer-complaints"][0]')" satisfied "the ticked item is satisfied"
is "$(json_get "$out" '[i["state"] for i in d["items"] if i["id"] == "monitor-errors-latency"][0]')" unchecked "the check is in the checklist"
is "$(json_get "$out" 'd["followup"]["monitoring"]')" none "a standard deployment has no continuous monitoring"
run_slipway checklist "$id"
like "$out" "follow-up: long_term_until " "the text output has a follow-up line"

# ---- an emergency ----
run_slipway deploy api v3 --type emergency --reason "checkout down" --time-scale 3600
is "$rc" 0 "deploy records the emergency v3"
eid=$(store_sql "select id from deployments where version='v3'")
SLIPWAY_USER=dave run_slipway approve "$eid" --role vp-engineering
is "$rc" 0 "the VP approves it (the emergency window's approval)"
succeed "$eid"
ok $? "the emergency succeeded"
wait_sql "select emergency from followups where deployment_id=$eid" 1
ok $? "its follow-up is an emergency's"
wait_sql "select count(*) > 0 from notify_messages where kind='followup' and deployment_id=$eid and text like '%POST-MORTEM OVERDUE%'" 1
ok $? "past postmortem_within (3 s here) the post-mortem is said overdue"
wait_sql "select last_monitor_ms > 0 from followups where deployment_id=$eid" 1
ok $? "its monitoring looks"
is "$(store_sql "select monitoring_ended_ms from followups where deployment_id=$eid")" 0 "and goes on without the post-mortem"
run_slipway checklist "$eid" -o json
is "$(json_get "$out" 'd["followup"]["monitoring"]')" continuous "checklist -o json: monitoring continuous"
run_slipway checklist tick "$eid" post-mortem --evidence https://wiki.example/pm/1
is "$rc" 0 "the post-mortem is ticked"
wait_sql "select monitoring_ended_ms > 0 from followups where deployment_id=$eid" 1
ok $? "then the emergency's monitoring ends"
run_slipway checklist "$eid" -o json
is "$(json_get "$out" 'd["followup"]["monitoring"]')" ended "checklist -o json: monitoring ended"
is "$(store_sql "select count(*) from audit where action='followup.monitoring_ended' and subject='deployment:$eid'")" 1 "audited"
stop_serve
done_testing
