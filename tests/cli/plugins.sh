# plugins.sh - plugins chosen by name in a service file (controller/registry.h,
# docs/services.md): an unknown name is bad input naming FILE:LINE:COL and the
# names that exist, before anything starts or is recorded.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
export SLIPWAY_PROJECT="$T/proj"
export SLIPWAY_STATE_DIR="$T/state"
export SLIPWAY_USER=alice
mkdir -p "$T/proj/services" "$T/proj/releases/web/v1"

cat >"$T/proj/services/web.yaml" <<'YAML'
command: [python3, -m, http.server, "{port}"]
provider: nosuch
environments:
  production: {listen: 127.0.0.1:1}
YAML
run_slipway deploy web v1 --type standard
is "$rc" 2 "deploy: an unknown provider is bad input (exit 2)"
like "$err" "services/web.yaml:2:11: unknown provider 'nosuch'; valid: builtin, prometheus, sim" \
  "deploy: the error names FILE:LINE:COL and the providers"
run_slipway start web v1
is "$rc" 2 "start: the same service file is refused the same way"
like "$err" "services/web.yaml:2:11: unknown provider 'nosuch'" "start: with the position"
unlike "$(ls "$T/state" 2>/dev/null)" "slipway.db" "nothing was recorded"

for kind in target router judge; do
  sed "s/^provider: nosuch/$kind: nosuch/" "$T/proj/services/web.yaml" >"$T/proj/services/w$kind.yaml"
  mkdir -p "$T/proj/releases/w$kind/v1"
  run_slipway deploy "w$kind" v1 --type standard
  is "$rc" 2 "deploy: an unknown $kind is bad input (exit 2)"
  like "$err" "services/w$kind.yaml:2:[0-9]+: unknown $kind 'nosuch'; valid: " "deploy: the $kind's error lists the names"
done
# the local target's check: a release that is not there is refused before a deployment is recorded
cat >"$T/proj/services/ok.yaml" <<'YAML'
command: [python3, -m, http.server, "{port}"]
target: local
router: haproxy
provider: builtin
judge: observed
environments:
  production: {listen: 127.0.0.1:1}
YAML
run_slipway deploy ok v9 --type standard
is "$rc" 2 "deploy: a missing release is bad input (exit 2)"
like "$err" "release directory '.*releases/ok/v9' does not exist" "the target says which directory is missing"
is "$(sqlite3 "$T/state/slipway.db" 'SELECT count(*) FROM deployments' 2>/dev/null || echo 0)" 0 "no deployment was recorded"
done_testing
