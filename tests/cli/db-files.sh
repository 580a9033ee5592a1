# db-files.sh - databases/NAME.yaml faults give FILE:LINE:COL and what would be
# valid, exit 2 (docs/databases.md, docs/yaml.md).  Cases: tests/data/databases/
# CASE.yaml, first line "# expect: LINE:COL: TEXT" (the message's start) or
# "# expect: ok"; each is read by `slipway db check` as databases/x.yaml.
. "$SLIPWAY_SRC/tests/cli/lib.sh"
mkdir -p "$T/proj/databases"
export SLIPWAY_PROJECT="$T/proj"
# the sqitch project valid.yaml names (its plan must exist; what is in it is sqitch's business)
mkdir -p "$T/proj/db" && touch "$T/proj/db/sqitch.plan"
f="$T/proj/databases/x.yaml"
for c in "$SLIPWAY_SRC"/tests/data/databases/*.yaml; do
  name=$(basename "$c" .yaml)
  want=$(sed -n '1s/^# expect: //p' "$c")
  cp "$c" "$f"
  run_slipway db check x
  if [ "$want" = ok ]; then
    is "$rc" 0 "$name: valid"
  else
    is "$rc" 2 "$name: exit 2"
    first=${err#slipway: error: }
    case "$first" in
      "$f:$want"*) ok 0 "$name: $want" ;;
      *) ok 1 "$name: $want"; echo "#   got: $first" ;;
    esac
  fi
done
run_slipway db check nosuch
is "$rc" 2 "a missing database file: exit 2"
like "$err" "no database 'nosuch'.*databases/nosuch.yaml" "names the path"
run_slipway db frobnicate x
is "$rc" 2 "an unknown subcommand: exit 2"
like "$err" "valid: check, backup, backups, rehearse, rehearsals, migrate" "lists the valid ones"
run_slipway db migrate x
is "$rc" 2 "migrate without --to: exit 2"
run_slipway db migrate x --to items --with-release api
is "$rc" 2 "--with-release without =VERSION: exit 2"
like "$err" "--with-release takes SERVICE=VERSION \(e.g. api=v2\), not 'api'" "says the form"
run_slipway db migrate x --to items --with-release 'api=v 2'
is "$rc" 2 "--with-release with a bad version: exit 2"
run_slipway db migrate x --to items --time-scale 0
is "$rc" 2 "--time-scale 0: exit 2"
like "$err" "--time-scale must be a number from 1 to 3600, not '0'" "says the range"
run_slipway db backup x --time-scale 60
is "$rc" 2 "--time-scale beside backup: exit 2"
like "$err" "go with 'db migrate'" "says where it goes"
# a sqitch project that is not there: said by check, before anything runs
cp "$SLIPWAY_SRC/tests/data/databases/valid.yaml" "$f"
mv "$T/proj/db/sqitch.plan" "$T/proj/db/sqitch.plan.away"
run_slipway db check x
is "$rc" 2 "check: a sqitch project without sqitch.plan: exit 2"
like "$err" "project: no sqitch project at 'db' \(no file '.*/db/sqitch.plan'\)" "names the project and the file"
mv "$T/proj/db/sqitch.plan.away" "$T/proj/db/sqitch.plan"
# reading commands never create a store
run_slipway db backups
is "$rc" 2 "db backups without a store: exit 2"
ok "$([ ! -e "$T/proj/.slipway" ] && [ ! -e .slipway ]; echo $?)" "and creates none"
# a connection named by a variable that is not set: the variable named, exit 2
cp "$SLIPWAY_SRC/tests/data/databases/valid.yaml" "$f"
run_slipway db backup x
is "$rc" 2 "backup with its connection variable unset: exit 2"
like "$err" 'APP_DATABASE_URL is not set' "names the variable"
APP_DATABASE_URL="mysql://secret@host/db" run_slipway db backup x
is "$rc" 2 "a connection that is not postgresql://: exit 2"
unlike "$err" "secret" "the value is never printed"
done_testing
