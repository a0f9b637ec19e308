#!/usr/bin/env bash
# Fuzz the live API with schemathesis, once per role, against its own OpenAPI schema.
#
# For each role (platform admin, manager, lead, employee of the seeded demo), on a
# fresh copy of a migrated and seeded throwaway database: start gunicorn on
# 127.0.0.1:$FUZZ_PORT, get the role's API token, and let schemathesis generate
# requests for every operation of /api/schema/ (the coverage and fuzzing phases,
# see the budget below). A run fails on any 5xx (not_a_server_error), any response whose body
# or content type breaks the schema (response_schema_conformance,
# content_type_conformance), and any status code the schema does not document.
#
# Budget: the four roles run side by side, each fuzzing up to FUZZ_MAX_EXAMPLES
# (default 20) cases per operation; the platform admin and the manager also run
# the coverage phase. That keeps the step within a few minutes on two cores; raise
# the numbers locally for a deeper run (FUZZ_COVERAGE_ROLES="platform_admin manager
# lead employee" FUZZ_MAX_EXAMPLES=200). gunicorn's request-line limit is lifted so
# long generated URLs reach Django instead of gunicorn's own HTML 414.
# Reports (JUnit and a reproducing pytest file) go to $FUZZ_REPORT_DIR.
#
#   .ci/schemathesis.sh                      # all four roles
#   FUZZ_ROLES="manager" FUZZ_MAX_EXAMPLES=200 .ci/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${FUZZ_PORT:-8199}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-20}"
ROLES="${FUZZ_ROLES:-platform_admin manager lead employee}"
# The coverage phase (every boundary and wrong type of every field: ~2,800 requests
# a role) runs for the roles with the most write endpoints; the others fuzz only.
COVERAGE_ROLES="${FUZZ_COVERAGE_ROLES:-platform_admin manager}"
REPORT_DIR="${FUZZ_REPORT_DIR:-/tmp/perksu-fuzz-report}"
WORK="$(mktemp -d /tmp/perksu-fuzz.XXXXXX)"
SEEDED="$WORK/seeded.sqlite3"
PY=.venv/bin/python
ROOT="$(pwd)"

declare -A EMAILS=(
  [platform_admin]=admin@perksu.test
  [manager]=manager@triton.test
  [lead]=lead.ops@triton.test
  [employee]=asha@triton.test
)

# A throwaway server: local settings, its own SQLite file, DEBUG off. The
# wrong-password and money limits are lifted so that what is fuzzed is the API,
# not the throttles (tests cover those: perksu/tests/test_throttling.py).
export DJANGO_SETTINGS_MODULE=perksu.settings.local DEBUG=False
export ALLOWED_HOSTS=127.0.0.1,localhost
export MONEY_POST_RATE=100000/min LOGIN_FAILURE_LIMIT=100000
export PYTHONUNBUFFERED=1

declare -A PIDS=()
cleanup() {
  # Stop what this script started — each role run's children (its server, schemathesis), then the run.
  for pid in "${PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "fuzz: migrating and seeding a throwaway database"
DATABASE_URL="sqlite:///$SEEDED" $PY manage.py migrate --verbosity 0
DATABASE_URL="sqlite:///$SEEDED" $PY manage.py seed_demo >/dev/null

mkdir -p "$REPORT_DIR"

# One role: its own copy of the seeded database, its own server and port.
fuzz_role() {
  local role=$1 port=$2 db="$WORK/$1.sqlite3" token server status phases=examples,fuzzing
  [[ " $COVERAGE_ROLES " == *" $role "* ]] && phases=examples,coverage,fuzzing
  cp "$SEEDED" "$db"
  token="$(DATABASE_URL="sqlite:///$db" $PY manage.py issue_api_token "${EMAILS[$role]}")"
  DATABASE_URL="sqlite:///$db" .venv/bin/gunicorn perksu.wsgi:application --bind "127.0.0.1:$port" \
    --workers 2 --timeout 60 --limit-request-line 0 --log-level warning \
    >"$REPORT_DIR/server-$role.log" 2>&1 &  # the server's log (a 500's traceback) stays out of the CI output
  server=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # One schemathesis worker: its coverage phase is not thread-safe on Python 3.11
  # ("AST constructor recursion depth mismatch"); the roles run side by side instead.
  set +e
  # From the throwaway directory, so schemathesis' replay cache (.schemathesis/) goes with it.
  (cd "$WORK" && "$ROOT/.venv/bin/st" run "http://127.0.0.1:$port/api/schema/" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance \
    --phases "$phases" \
    --max-examples "$MAX_EXAMPLES" \
    --seed "${FUZZ_SEED:-8842}" \
    --workers 1 \
    --request-timeout 30 \
    --suppress-health-check all \
    --warnings off \
    --report junit,pytest \
    --report-junit-path "$REPORT_DIR/junit-$role.xml" \
    --report-pytest-path "$REPORT_DIR/reproduce-$role.py" \
    --no-color >"$REPORT_DIR/schemathesis-$role.txt" 2>&1)
  status=$?
  set -e
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  return $status
}

port=$PORT
for role in $ROLES; do
  echo "fuzz: $role (${EMAILS[$role]}) on port $port, up to $MAX_EXAMPLES examples per operation"
  fuzz_role "$role" "$port" &
  PIDS[$role]=$!
  port=$((port + 1))
done

failed=0
for role in $ROLES; do
  if wait "${PIDS[$role]}"; then
    echo "fuzz: $role passed"
  else
    echo "fuzz: $role FAILED; the report follows"
    cat "$REPORT_DIR/schemathesis-$role.txt"
    failed=1
  fi
done

echo
echo "fuzz: summary (requests generated and failures, per role)"
for role in $ROLES; do
  grep -E "test cases generated|passed|failed|No issues|issues found" "$REPORT_DIR/schemathesis-$role.txt" \
    | sed "s/^/  $role: /" | tail -4 || true
done
exit $failed
