# fault-run.sh - the failure paths one after another on one service, under a
# steady load whose every request is written down (tests/helpers/loadlog):
#   (a) a release that never becomes ready (its command exits at once)
#   (b) a canary that answers 30% errors (the one kind of failed request the
#       accounting below excuses: the canary's own)
#   (c) HAProxy killed with kill -9 mid-canary
#   (d) the canary instance killed mid-canary
#   (e) the controller (deploy) killed with kill -9 mid-canary, then run again
#   (f) a full disk mid-canary: the state directory is a small tmpfs that the
#       test fills (where it cannot mount one: a file-size limit on the running
#       deploy, see below; the output says which)
# Then:
#   - no request failed that the stable revision could have served.  Every
#     case keeps a healthy stable revision serving (v1, then each promoted
#     release), so every request must be answered 2xx, except
#       * 500s of the erroring canary (status 500 with its X-Version: its own
#         injected errors, which its rollback is for), and
#       * requests that overlap the HAProxy outage of (c): from the instant
#         before kill -9 to the start of the first request answered after it,
#         both read from the load log (nothing else listens on the port then).
#     A request refused, reset, timed out or answered 5xx anywhere else fails
#     the test, whatever the cause: a GET in flight on the canary killed in (d)
#     too (HAProxy retries it on the stable revision: haproxy.md).
#   - no deployment left unfinished without a person being told: each one is
#     final (succeeded, rolled back, failed) or paused, and has the
#     notification of that outcome queued and delivered (`show -o json`).
#   - `audit --verify` holds.
# About 2.5 minutes.  FAULTRUN_NO_MOUNT=1 tries the fallback of (f) where a mount
# works; FAULTRUN_KEEP=DIR copies every output, the load log and the events there.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
. "$SLIPWAY_SRC/tests/e2e/lib/local.sh"
need_haproxy
LOADLOG="$SLIPWAY_SRC/tests/helpers/loadlog"

# ---- the state directory on a small tmpfs (the full disk of (f)) ----
# Without the right to mount one (not root, or a container without
# CAP_SYS_ADMIN), (f) puts a file-size limit on the running deploy instead
# (prlimit --fsize, with SIGXFSZ ignored as a daemon would): its writes to the
# store then fail with EFBIG, which SQLite reports as a disk I/O error, the
# same path in the controller as ENOSPC (engine.md "Failure paths": a full
# disk, an I/O error).  The output says which was used.
STATE="$SLIPWAY_STATE_DIR"
mkdir -p "$STATE"
DISK=fsize-limit
if [ "$(id -u)" = 0 ] && [ -z "${FAULTRUN_NO_MOUNT:-}" ] && mount -t tmpfs -o size=24m,mode=0700 slipway-faultrun "$STATE" 2>/dev/null; then
  DISK=tmpfs
  unmount_state() { umount "$STATE" 2>/dev/null || umount -l "$STATE" 2>/dev/null; }
  at_exit unmount_state
fi
echo "# full disk by: $DISK"

DB="$STATE/slipway.db"
sql() { python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
try:
    for r in sqlite3.connect(sys.argv[1], timeout=5).execute(sys.argv[2]).fetchall():
        print(" ".join(str(x) for x in r))
except Exception:
    pass
PY
}
now() { date +%s.%N; }
EVENTS="$T/events"
: >"$EVENTS"
event() { echo "$1 $2" >>"$EVENTS"; }   # event NAME TIME: an instant the accounting reads

# every release runs start.sh in its directory: a good one execs the demo
# service, a bad one fails the way real releases do.  One step of 50% held 10
# minutes, then the type's monitoring period (5 minutes in this policy): at x60,
# 10 s and 5 s; intervals of 1 s with about 40 canary requests each.  At 40
# requests a second, a canary restarted in (d) gathered 579 of the ~610 requests
# the latency test needs at its 0.35% within the step's longest hold (30 s at
# x60) on a loaded machine, and paused for a person: the load is 80 a second.
PORT=$(free_port)
mkdir -p "$T/proj/services" "$T/proj/releases/shop"
cat >"$T/proj/services/shop.yaml" <<YAML
command: ["sh", "start.sh", "{port}", "{version}", "{instance}"]
readiness: {path: /health, timeout: 1s, deadline: 10s}
stop: {grace: 2s, drain: 500ms}
analysis: {steps: [{weight: 50, hold: 10m}]}
environments:
  production: {listen: "127.0.0.1:$PORT", instances: 1}
YAML
_services+=(shop)
{ cat "$SLIPWAY_POLICY"; printf '    monitoring: 5m\n'; } >"$T/policy.yaml"
export SLIPWAY_POLICY="$T/policy.yaml"
# 50 ms added to every request: the latency criteria compare the canary's share of
# requests slower than 2x the baseline p99, and with a fast endpoint the scheduling
# noise of a busy 2-core machine alone is that slow (resume.sh adds 10 ms against
# a far heavier load, which gathers evidence faster)
good_release() { # VERSION [ERROR_RATE]
  make_release shop "$1" "${2:-0}" 50
  printf 'exec "%s" --port "$1" --version "$2" --instance "$3"\n' "$DEMO" >"$T/proj/releases/shop/$1/start.sh"
}
bad_release() { # VERSION
  make_release shop "$1"
  printf 'echo "fatal: cannot read config.ini" >&2\nexit 3\n' >"$T/proj/releases/shop/$1/start.sh"
}
good_release v1
bad_release v2
good_release v3 30
for v in v4 v5 v6 v7; do good_release "$v"; done

row() { deployment_row "$1"; }
wait_row() { # VERSION REGEX: until the deployment's "ID STATE STEP WEIGHT" matches (120 s at most)
  local i
  for i in $(seq 1 1200); do
    row "$1" | grep -Eq -- "$2" && return 0
    kill -0 "$CTL" 2>/dev/null || return 1   # deploy ended before: no use waiting
    sleep 0.1
  done
  return 1
}
CTL=""
# its output goes through a pipe: under (f)'s file-size limit it could not
# write to a file longer than the limit
deploy_bg() { # VERSION OUT: `deploy` in the background -> $CTL
  (trap '' XFSZ; exec "$SLIPWAY" deploy shop "$1" --time-scale 60) > >(cat >"$2") 2>&1 &
  CTL=$!
}
stop_ctl() { [ -n "$CTL" ] && kill "$CTL" 2>/dev/null; [ -n "$CTL" ] && wait "$CTL" 2>/dev/null; CTL=""; }
at_exit stop_ctl
wait_ctl() { # -> $rc (bounded: 240 s; each case takes well under a minute)
  local i
  for i in $(seq 1 2400); do kill -0 "$CTL" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$CTL" 2>/dev/null && { kill "$CTL"; echo "# deploy still running after 240 s"; }
  wait "$CTL"; rc=$?
  CTL=""
}
show_tail() { [ "$1" = "$2" ] || tail -15 "$3" | sed 's/^/#   /'; }
# a case that did not end as expected may leave its deployment paused (a person's
# decision) or unfinished, and every later deploy would be refused: abort it, as
# a person would, so that the next cases still run (the case has failed already)
settle() { # VERSION
  local r; r=$(row "$1")
  case "$r" in none|*" succeeded "*|*" rolled_back "*|*" failed "*) return 0 ;; esac
  echo "# settling the deployment left as: $r"
  "$SLIPWAY" abort "${r%% *}" >/dev/null 2>&1
  timeout 120 "$SLIPWAY" deploy shop "$1" --time-scale 60 >/dev/null 2>&1
}

run_slipway start shop v1
is "$rc" 0 "v1 is the stable revision"
"$LOADLOG" "http://127.0.0.1:$PORT/api/x" "$T/load.log" --workers 8 --rate 80 &
load=$!
stop_load() { [ -n "$load" ] && { kill -TERM "$load" 2>/dev/null; wait "$load" 2>/dev/null; }; load=""; }
at_exit stop_load
sleep 1

# ---- (a) a release that never becomes ready ----
deploy_bg v2 "$T/a.out"; wait_ctl
is "$rc" 1 "(a) a release whose command exits at once is rolled back (exit 1)"
show_tail "$rc" 1 "$T/a.out"
like "$(cat "$T/a.out")" 'not ready after 600s (\[scaled [^]]*\] )?\(progressDeadlineSeconds\).*fatal: cannot read config.ini' "(a) at the progress deadline, quoting its log"
settle v2

# ---- (b) a canary with its own errors ----
deploy_bg v3 "$T/b.out"; wait_ctl
is "$rc" 1 "(b) a canary answering 30% errors is rolled back (exit 1)"
show_tail "$rc" 1 "$T/b.out"
like "$(cat "$T/b.out")" 'rolling_back .*error rate' "(b) on its error rate"
settle v3

# ---- (c) HAProxy killed mid-canary ----
cfg="$STATE/routers/shop.production/haproxy.cfg"
deploy_bg v4 "$T/c.out"
wait_row v4 ' progressing 1 50'
like "$(row v4)" " progressing 1 50" "(c) the canary v4 is at step 1 (50%)"
hap=$(pgrep -f -- "-f $cfg" | head -1)
event haproxy-kill "$(now)"
kill -9 "$hap"
new=""
for i in $(seq 1 300); do
  new=$(pgrep -f -- "-f $cfg" | head -1)
  [ -n "$new" ] && [ "$new" != "$hap" ] && break; new=""; sleep 0.1
done
ok "$([ -n "$new" ]; echo $?)" "(c) HAProxy (pid $hap) killed; a new one runs (pid $new)"
wait_ctl
event c-end "$(now)"
is "$rc" 0 "(c) the deployment succeeds: the outage was not blamed on the canary"
like "$(cat "$T/c.out")" 'shop v1 -> v4' "(c) against the stable v1"
show_tail "$rc" 0 "$T/c.out"
like "$(sql "select reason from transitions where reason like 'router:%'")" "HAProxy \(pid $hap\) was gone; restarted" "(c) the restart is in the record"
settle v4

# ---- (d) the canary instance killed mid-canary ----
deploy_bg v5 "$T/d.out"
wait_row v5 ' progressing 1 50'
canary=$(sql "select pid, port from instances where version='v5' and state='running'")
ok "$([ -n "$canary" ]; echo $?)" "(d) the canary v5 runs at step 1 (pid/port $canary)"
event canary-kill "$(now)"
kill -9 "${canary%% *}"
wait_ctl
is "$rc" 0 "(d) the canary is restarted and the deployment succeeds"
like "$(cat "$T/d.out")" 'shop v4 -> v5' "(d) against the stable v4, promoted in (c)"
show_tail "$rc" 0 "$T/d.out"
like "$(cat "$T/d.out")" 'died \(1 of 2 allowed\).*restarting' "(d) the death was reported and the instance restarted"
settle v5

# ---- (e) the controller killed mid-canary, then run again ----
deploy_bg v6 "$T/e1.out"
wait_row v6 ' progressing 1 50'
before=$(row v6)
kill -9 "$CTL"; wait "$CTL" 2>/dev/null; CTL=""
like "$before" '^[0-9]+ progressing 1 50' "(e) deploy killed at step 1 ($before)"
like "$(cat "$T/e1.out")" 'shop v5 -> v6' "(e) against the stable v5, promoted in (d)"
sleep 2
deploy_bg v6 "$T/e2.out"; wait_ctl
is "$rc" 0 "(e) deploy run again resumes the deployment and it succeeds"
show_tail "$rc" 0 "$T/e2.out"
like "$(cat "$T/e2.out")" "resuming deployment #${before%% *} of shop v6" "(e) the same deployment is resumed"
settle v6

# ---- (f) a full disk mid-canary ----
deploy_bg v7 "$T/f1.out"
wait_row v7 ' progressing 1 50'
like "$(row v7)" ' progressing 1 50' "(f) the canary v7 is at step 1"
event disk-full "$(now)"
if [ "$DISK" = tmpfs ]; then
  dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null
  echo "# tmpfs full: $(df -k "$STATE" | tail -1)"
else
  prlimit --pid "$CTL" --fsize=1024:1024
fi
wait_ctl
event disk-freed "$(now)"
is "$rc" 3 "(f) with the store refusing writes, deploy gives up after a bounded time (exit 3)"
f1=$(cat "$T/f1.out")
like "$f1" 'shop v6 -> v7' "(f) against the stable v6, promoted in (e) (the latest success, whatever its scaled finish time)"
show_tail "$rc" 3 "$T/f1.out"
like "$f1" 'cannot commit the tick: .*(disk is full|disk I/O error).*nothing is decided or changed' "(f) it says the store cannot be written and that nothing changes meanwhile"
like "$f1" 'run deploy again once the store can be written' "(f) and what to do"
is "$(grep -c 'cannot commit the tick' "$T/f1.out")" 1 "(f) it said so once, not every tick"
rm -f "$STATE/filler"
deploy_bg v7 "$T/f2.out"; wait_ctl
is "$rc" 0 "(f) with space again, deploy run again resumes and the deployment succeeds"
show_tail "$rc" 0 "$T/f2.out"
sleep 1
stop_load

# ---- no deployment left unfinished without a person being told ----
run_slipway history shop -o json
hist=$out
schema_ok "$hist" DeploymentList "history -o json is a DeploymentList"
echo "$hist" >"$T/history.json"
for id in $(json_get "$hist" '" ".join(str(x["id"]) for x in d["items"])'); do
  run_slipway show "$id" -o json
  echo "$out" >"$T/show.$id.json"
done
told=$(python3 - "$T" <<'PY'
import glob, json, sys
final = {"succeeded": "complete", "rolled_back": "rollback", "failed": "failed", "paused": "paused"}
for f in sorted(glob.glob(sys.argv[1] + "/show.*.json")):
    d = json.load(open(f))
    dep = d.get("deployment", d)
    st = dep["state"]
    msgs = d.get("messages", [])
    want = final.get(st)
    kinds = sorted({m.get("kind") for m in msgs})
    # one row per message and sink: the outcome's message, delivered
    sent = [m for m in msgs if m.get("kind") == want and m.get("state") == "sent"]
    print("%s %s %s %s" % (dep["id"], st, ",".join(k or "?" for k in kinds), "told" if want and sent else "NOT-TOLD"))
PY
)
echo "$told" | sed 's/^/# /'
is "$(echo "$told" | wc -l)" 6 "six deployments were made (v2 to v7)"
unlike "$told" 'NOT-TOLD' "each is final or paused, with that outcome's notification delivered"

run_slipway audit --verify -o json
is "$rc" 0 "audit --verify holds"
[ "$rc" = 0 ] || echo "$out $err" | head -5 | sed 's/^/#   /'

# ---- no request failed that the stable revision could have served ----
acct=$(python3 - "$T/load.log" "$EVENTS" <<'PY'
import sys
reqs = [l.split() for l in open(sys.argv[1]) if l.strip()]
reqs = [(float(s), float(e), o, v) for s, e, o, v in reqs]
ev = dict(l.split() for l in open(sys.argv[2]) if l.strip())
ok = lambda o: o.isdigit() and 200 <= int(o) < 300
kill = float(ev["haproxy-kill"])
back = min((s for s, e, o, v in reqs if s >= kill and ok(o)), default=None)
if back is None or back > float(ev["c-end"]):
    print("outage_unbounded")   # no request answered before (c) ended: nothing is excused
    back = kill
total = len(reqs)
canary_own = [r for r in reqs if r[2] == "500" and r[3] == "v3"]
outage = [r for r in reqs if not ok(r[2]) and r not in canary_own and r[1] >= kill and r[0] <= back]
bad = [r for r in reqs if not ok(r[2]) and r not in canary_own and r not in outage]
print("total %d" % total)
print("canary_own %d" % len(canary_own))
print("outage %d %.3f" % (len(outage), back - kill))
print("failed %d" % len(bad))
# while HAProxy is down the kernel refuses connections, and those HAProxy held are
# reset: an answer (a 5xx) in the window came from a HAProxy and is not excused
print("outage_kinds %s" % ",".join(sorted({r[2] for r in outage})) if outage else "outage_kinds none")
# with the store refusing writes, the traffic stays as it was: both revisions answer
full, freed = float(ev["disk-full"]), float(ev["disk-freed"])
print("while_full %s" % " ".join("%s=%d" % (v, sum(1 for r in reqs if full <= r[0] <= freed and ok(r[2]) and r[3] == v)) for v in ("v6", "v7")))
for r in bad[:10]:
    print("# failed: start %.3f end %.3f %s %s" % r)
PY
)
echo "$acct" | sed 's/^/# /'
total=$(echo "$acct" | awk '$1=="total"{print $2}')
ok "$([ "${total:-0}" -gt 2000 ]; echo $?)" "the load ran: ${total:-0} requests written down"
ok "$([ "$(echo "$acct" | awk '$1=="canary_own"{print $2}')" -gt 0 ]; echo $?)" "the erroring canary's own 500s were seen (and excused)"
is "$(echo "$acct" | awk '$1=="failed"{print $2}')" 0 "no request failed that the stable revision could have served"
unlike "$acct" 'outage_unbounded' "HAProxy answered again before (c) ended (the excused window is closed)"
like "$(echo "$acct" | grep '^outage_kinds')" '^outage_kinds (none|((refused|reset),?)+)$' "the requests failed in HAProxy's outage were refused or reset, none answered 5xx"
like "$(echo "$acct" | grep '^while_full')" '^while_full v6=[1-9][0-9]* v7=[1-9][0-9]*$' "(f) while the store refused writes, the stable v6 and the canary v7 both kept serving"
[ -n "${FAULTRUN_KEEP:-}" ] && cp "$T"/*.out "$T"/*.json "$T/load.log" "$T/events" "$FAULTRUN_KEEP"/
done_testing
