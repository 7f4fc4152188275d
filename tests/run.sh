#!/usr/bin/env bash
# THE test command: fresh database pp_test, install points_pool, pos_points_pool and the
# test-only addons of tests/addons (test_points_pool_rule_kind), run their tests (Python + tours),
# then the short load test (tests/load.py --short --drop: a 4-worker server, database
# <test db>_load, output in .state/load.log), then print "points_pool: N passed, F failed".
# Extra args go to odoo (e.g. --test-tags ...).
# Env: PP_KEEP_DB=1 reuses pp_test (module update instead of a fresh install); PP_PGPORT;
#      PP_TEST_HTTP_PORT (default 8169, so tests can run next to data/serve.sh);
#      PP_SKIP_LOAD=1 skips the load test; PP_MODULES (comma-separated) the modules.
set -euo pipefail
# shellcheck source=data/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../data/common.sh"
DB="${PP_TEST_DB:-pp_test}"
# the modules installed and tested (comma-separated); the first is the one whose state decides -i/-u
MODULES="${PP_MODULES:-points_pool,pos_points_pool,test_points_pool_rule_kind}"
MODULE="${MODULES%%,*}"
# one log per database, so runs on other databases never mix into this one's counts
LOG="$STATE/test.log"
[[ $DB == pp_test ]] || LOG="$STATE/test-$DB.log"

pp_require_odoo
pp_require_pg
pp_require_chromium
python3 -c 'import websocket' 2>/dev/null ||
  pp_die "websocket-client is not installed (needed by the tour tests): python3 -m pip install -r requirements.txt"
pp_start_cluster
# the test-only addons (tests/addons) are on the addons path of test runs only
PP_EXTRA_ADDONS="${PP_EXTRA_ADDONS:+$PP_EXTRA_ADDONS,}$ROOT/tests/addons" pp_write_conf

mode=-i
install=()  # with -u: the modules of MODULES not installed yet are installed too
if [[ ${PP_KEEP_DB:-} == 1 ]]; then
  state=$(psql -d "$DB" -Atc "select state from ir_module_module where name = '$MODULE'" 2>/dev/null || true)
  [[ $state == installed ]] && mode=-u
  missing=$(psql -d "$DB" -Atc "select string_agg(m, ',') from unnest(string_to_array('$MODULES', ','))
    m where m not in (select name from ir_module_module where state = 'installed')" 2>/dev/null || true)
  [[ $mode == -u && -n $missing ]] && install=(-i "$missing")
else
  dropdb --if-exists --force "$DB"
fi
tags=(--test-tags "/${MODULES//,/,/}")
for arg in "$@"; do [[ $arg == --test-tags* ]] && tags=(); done

cd "$ROOT"
set +e
odoo -c "$PP_CONF" -d "$DB" "$mode" "$MODULES" "${install[@]}" --test-enable "${tags[@]}" --stop-after-init \
  --http-port "${PP_TEST_HTTP_PORT:-8169}" --db-filter "^$DB\$" "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e

# "F failed, E error(s) of N tests when loading database 'pp_test'" (odoo/tests/result.py)
read -r failed errors total < <(sed -nE \
  's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests when loading database .*/\1 \2 \3/p' \
  "$LOG" | awk '{f += $1; e += $2; n += $3} END {print f + 0, e + 0, n + 0}')
bad=$((failed + errors))
passed=$((total > bad ? total - bad : 0))
errlines=$(grep -cE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) |: (FAIL|ERROR): ' "$LOG" || true)
skips=$(grep -cE 'skipped .*: (Chrome|websocket|Failed to detect chrome|Error during Chrome|Cannot connect to chrome)' "$LOG" || true)

status=0
((rc == 0)) || { echo "odoo exited with code $rc" >&2; status=1; }
((errlines == 0)) || { echo "$errlines ERROR/CRITICAL/FAIL line(s) in the log ($LOG)" >&2; status=1; }
((skips == 0)) || { echo "$skips browser test(s) skipped: chromium/websocket not usable" >&2; status=1; }
((total > 0)) || { echo "no tests ran" >&2; status=1; }

# the load test: real HTTP workers, concurrent clients, one worker killed (tests/load.py)
if [[ ${PP_SKIP_LOAD:-} != 1 ]]; then
  set +e
  python3 "$ROOT/tests/load.py" --short --drop --db "${DB}_load" 2>&1 | tee "$STATE/load.log"
  load_rc=${PIPESTATUS[0]}
  set -e
  if ((load_rc == 0)); then
    echo "load: ok"
  else
    echo "load: FAILED (exit code $load_rc, see $STATE/load.log)"
    status=1
  fi
fi
echo "$MODULES: $passed passed, $bad failed"
exit $status
