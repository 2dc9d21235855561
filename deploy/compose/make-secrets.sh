#!/usr/bin/env bash
# `make compose-secrets`: the credentials compose.yaml mounts as Docker secrets (<NAME>_FILE), generated once
# into deploy/compose/secrets/ (git-ignored); an existing file is kept. Needs the project's virtualenv.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets
PY=../../.venv/bin/python
random() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))'; }
keep() { [ -s "secrets/$1" ] || { umask 077; "${@:2}" > "secrets/$1"; }; }

keep secret_key random
keep internal_secret random
keep simulated_webhook_secret random
keep postgres_password random
keep rabbitmq_password random
keep jwt_private_key.pem "$PY" -c 'from shop.web.jwt_keys import generate_private_key_pem as g; print(g(), end="")'
pg=$(cat secrets/postgres_password)
mq=$(cat secrets/rabbitmq_password)
keep database_url echo "postgres://shop:${pg}@postgres:5432/shop"
keep payments_database_url echo "postgres://shop:${pg}@postgres:5432/shop_payments"
keep notifications_database_url echo "postgres://shop:${pg}@postgres:5432/shop_notifications"
keep broker_url echo "amqp://shop:${mq}@rabbitmq:5672//"
keep rabbitmq.conf printf 'default_user = shop\ndefault_pass = %s\n' "$mq"
# The public keys every service verifies with (the private key stays with main): see docs/deploy.md.
(cd ../.. && "$PY" manage.py jwks --key deploy/compose/secrets/jwt_private_key.pem) > secrets/jwks.json
chmod 644 secrets/*  # read by the containers' non-root user
echo "compose secrets in $(pwd)/secrets"
