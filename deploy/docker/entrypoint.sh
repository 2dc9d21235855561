#!/bin/sh
# The roles of the shop's one image (docs/deploy.md):
#   shop web                  gunicorn, the public listener (SHOP_LISTENER=public: no /internal/ routes)
#   shop internal             gunicorn, /internal/ and the probes only (SHOP_LISTENER=internal), cluster-only
#   shop worker -Q q1,q2      a Celery worker for the given queues (one Deployment per queue group)
#   shop beat                 celery beat (exactly one per service)
#   shop migrate [ALIAS]      migrate one database (default, or a context's: payments, notifications, ...)
#   shop wait-for-migrations [ALIAS]   wait until that database is migrated
#   shop relay                reserved: the outbox is relayed after commit and swept by beat; no relay process yet
# Anything else runs as given (`shop python3 manage.py shell`). With SHOP_WAIT_FOR_MIGRATIONS=<alias>, the
# long-running roles first wait until the migration Job has migrated that database (Kubernetes starts both).
set -eu
role="${1:-web}"
[ "$#" -gt 0 ] && shift

wait_for_migrations() {
  until python3 manage.py migrate --check --database "$1" >/dev/null 2>&1; do
    echo "shop: waiting for the migrations of database '$1'" >&2
    sleep "${SHOP_MIGRATIONS_POLL_S:-3}"
  done
}

case "$role" in
  web | internal | worker | beat)
    if [ -n "${SHOP_WAIT_FOR_MIGRATIONS:-}" ]; then wait_for_migrations "$SHOP_WAIT_FOR_MIGRATIONS"; fi
    ;;
esac

case "$role" in
  web | internal)
    if [ "$role" = web ]; then listener=public; else listener=internal; fi
    SHOP_LISTENER="${SHOP_LISTENER:-$listener}"
    export SHOP_LISTENER
    exec gunicorn shop.wsgi:application \
      --bind "0.0.0.0:${PORT:-8000}" \
      --worker-class gthread \
      --workers "${WEB_CONCURRENCY:-2}" \
      --threads "${WEB_THREADS:-4}" \
      --timeout "${WEB_TIMEOUT:-30}" \
      --graceful-timeout 20 \
      --keep-alive 5 \
      --worker-tmp-dir /dev/shm \
      --no-control-socket \
      --error-logfile - \
      "$@"
    ;;
  worker)
    exec celery -A shop worker --without-gossip --without-mingle --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  beat)
    exec celery -A shop beat --schedule "${BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" \
      --loglevel "${LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    exec python3 manage.py migrate --database "${1:-default}" --noinput
    ;;
  wait-for-migrations)
    wait_for_migrations "${1:-default}"
    ;;
  relay)
    echo "shop: no relay role in this version: the outbox is relayed after commit and swept by beat" >&2
    exit 64
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
