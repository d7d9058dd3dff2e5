#!/usr/bin/env bash
# The production shape of docker-compose.yml, run outside Docker on this machine's PostgreSQL
# and Redis: DEBUG=false, a real secret key from a file, migrate, collectstatic, then gunicorn,
# a Celery worker and Celery beat with the same commands and health checks as the compose
# services. Checks /healthz, a static file through WhiteNoise, the HTTPS redirect, a task
# round trip through Redis and beat's schedule. Stops everything it started.
#
#   scripts/prod_smoke.sh                 # SMOKE_DB, SMOKE_REDIS_DB, SMOKE_PORT to change
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV_BIN:-.venv/bin}
db=${SMOKE_DB:-flexpool_prod_smoke}
work=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  dropdb -h 127.0.0.1 -U postgres --if-exists "$db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "prod smoke FAILED: $*"; for f in "$work"/*.log; do echo "--- $f"; tail -30 "$f"; done; exit 1; }

"$BIN/python" -c "import secrets; print(secrets.token_urlsafe(50))" >"$work/secret_key"
export DEBUG=false
export SECRET_KEY_FILE="$work/secret_key"
export ALLOWED_HOSTS="flexpool.localhost,127.0.0.1"
export CSRF_TRUSTED_ORIGINS="https://flexpool.localhost"
export SITE_URL="https://flexpool.localhost"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
export REDIS_URL="redis://127.0.0.1:6379/${SMOKE_REDIS_DB:-6}"
export FLEXPOOL_VAR_DIR="$work/var" STATIC_ROOT="$work/staticfiles"
export PORT=${SMOKE_PORT:-8790} WEB_BIND=127.0.0.1 WEB_CONCURRENCY=2
export CELERY_WORKER_NAME="smoke@$(hostname)"
export LOG_LEVEL=WARNING
export METRICS_TOKEN=smoke-metrics-token
mkdir -p "$FLEXPOOL_VAR_DIR"

echo "prod smoke: database $db, broker $REDIS_URL, port $PORT"
dropdb -h 127.0.0.1 -U postgres --if-exists "$db"
createdb -h 127.0.0.1 -U postgres "$db"
"$BIN/python" manage.py check --deploy --fail-level WARNING
"$BIN/python" manage.py migrate --noinput -v0                       # the compose `migrate` service
"$BIN/python" manage.py collectstatic --noinput -v0                 # done in the image build
redis-cli -n "${SMOKE_REDIS_DB:-6}" flushdb >/dev/null

# The compose services' commands (see docker-compose.yml).
setsid "$BIN/gunicorn" flexpool.wsgi --config gunicorn.conf.py >"$work/web.log" 2>&1 &
pids+=($!)
setsid "$BIN/celery" -A flexpool worker --loglevel=INFO --concurrency=1 -n "$CELERY_WORKER_NAME" \
  >"$work/worker.log" 2>&1 &
pids+=($!)
setsid "$BIN/celery" -A flexpool beat --loglevel=INFO >"$work/beat.log" 2>&1 &
pids+=($!)

ok=""
for _ in $(seq 60); do
  if "$BIN/python" scripts/healthcheck.py web >"$work/health.txt" 2>&1; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || fail "web never answered /healthz with 200"
cat "$work/health.txt"

# /metrics adds up every gunicorn process's counters: 40 requests spread over two
# processes must all be counted, whichever process answers the scrape.
for _ in $(seq 40); do
  curl -s -o /dev/null -H "Host: flexpool.localhost" -H "X-Forwarded-Proto: https" "http://127.0.0.1:$PORT/healthz"
done
counted=$(curl -s -H "Host: flexpool.localhost" -H "X-Forwarded-Proto: https" \
  -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$PORT/metrics" |
  awk '/^django_http_requests_before_middlewares_total/ {s += $2} END {print int(s)}')
[ "${counted:-0}" -ge 40 ] || fail "/metrics counted ${counted:-0} of 40+ requests (one process only?)"
echo "metrics: $counted requests counted across the web processes"

# Production settings: plain HTTP is redirected to HTTPS; static files come from WhiteNoise
# under their hashed names with a far-future cache header.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: flexpool.localhost" "http://127.0.0.1:$PORT/")
[ "$code" = "301" ] || fail "plain HTTP answered $code, not a redirect to HTTPS"
css=$("$BIN/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['paths']['vendor/govuk/govuk-frontend.min.css'])" "$STATIC_ROOT/staticfiles.json")
headers=$(curl -s -D - -o /dev/null -H "Host: flexpool.localhost" -H "X-Forwarded-Proto: https" \
  "http://127.0.0.1:$PORT/static/$css")
echo "$headers" | head -1 | grep -q " 200" || fail "static $css: $(echo "$headers" | head -1)"
echo "$headers" | grep -qi "cache-control: max-age=315360000" || fail "static file not cached forever"
echo "static: /static/$css served by WhiteNoise"

ok=""
for _ in $(seq 30); do
  if "$BIN/python" scripts/healthcheck.py worker >"$work/ping.txt" 2>&1; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || fail "the Celery worker did not answer a ping"
cat "$work/ping.txt"
"$BIN/python" scripts/task_roundtrip.py 60 || fail "no task round trip through Redis"

ok=""
for _ in $(seq 60); do
  if grep -q "Sending due task" "$work/beat.log" && "$BIN/python" scripts/healthcheck.py beat >"$work/beat.txt" 2>&1; then ok=1; break; fi
  sleep 1
done
[ -n "$ok" ] || fail "Celery beat sent no task"
cat "$work/beat.txt"
grep -m1 "Sending due task" "$work/beat.log"
echo "production smoke passed"
