#!/usr/bin/env bash
# `make image` / `make image-smoke`: build the shop's image, then run web + migrate against this machine's
# PostgreSQL and ask /readyz. Needs a Docker engine: one already running is used as it is; otherwise Debian's
# docker.io is installed (apt-get) and dockerd started for this run only, without a bridge or iptables rules
# (containers use the host's network, so they reach PostgreSQL on 127.0.0.1 and talk to nothing else), and
# stopped again at the end.
#
# The base image: PYTHON_IMAGE (python:3.11-slim-bookworm) when the engine has it or can pull it. A machine
# that reaches no image registry makes one from Debian's own packages instead (debootstrap bookworm: python3,
# python3-venv, ca-certificates, and this machine's CA certificates, so pip in the builder reaches PyPI the
# way this machine does), tagged shop-local/python:3.11-bookworm.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-shop:latest}
PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.11-slim-bookworm}
LOCAL_BASE=shop-local/python:3.11-bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=${SHOP_IMAGE_WORKDIR:-/var/tmp/shop-image}
SUDO=$([ "$(id -u)" = 0 ] || echo "sudo -n")
mkdir -p "$WORK"
started_engine=""

say() { echo "image: $*" >&2; }

stop_engine() {
  if [ -n "$started_engine" ] && kill -0 "$started_engine" 2>/dev/null; then
    say "stopping the dockerd this run started (pid $started_engine)"
    $SUDO kill "$started_engine"
    for _ in $(seq 1 30); do kill -0 "$started_engine" 2>/dev/null || break; sleep 1; done
  fi
}
trap stop_engine EXIT

ensure_engine() {
  if docker info >/dev/null 2>&1; then return; fi
  if ! command -v dockerd >/dev/null; then
    say "installing Debian's docker.io (apt-get)"
    $SUDO apt-get update -qq
    RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  say "starting dockerd (no bridge, no iptables; log: $WORK/dockerd.log)"
  $SUDO dockerd --bridge=none --iptables=false --ip6tables=false >"$WORK/dockerd.log" 2>&1 &
  started_engine=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return; sleep 1; done
  say "dockerd did not come up:"; tail -20 "$WORK/dockerd.log" >&2; exit 1
}

base_image() {
  if docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1 || docker pull -q "$PYTHON_IMAGE" >/dev/null 2>&1; then
    echo "$PYTHON_IMAGE"; return
  fi
  if ! docker image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
    say "no $PYTHON_IMAGE here and no registry: making $LOCAL_BASE with debootstrap"
    command -v debootstrap >/dev/null || {
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    local rootfs="$WORK/rootfs"
    $SUDO rm -rf "$rootfs"
    $SUDO debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
      "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1
    $SUDO cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    $SUDO chroot "$rootfs" update-ca-certificates >/dev/null
    $SUDO rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc "$rootfs"/usr/share/man
    $SUDO tar -C "$rootfs" -c . | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
      --change 'CMD ["python3"]' - "$LOCAL_BASE" >/dev/null
    $SUDO rm -rf "$rootfs"
  fi
  echo "$LOCAL_BASE"
}

build() {
  ensure_engine
  local base
  base=$(base_image)
  say "building $IMAGE on $base"
  docker build --network host --build-arg "PYTHON_IMAGE=$base" -t "$IMAGE" .
  docker image inspect "$IMAGE" --format 'image: {{.RepoTags}} {{.Size}} bytes, user {{.Config.User}}' >&2
}

smoke() {
  ensure_engine
  docker image inspect "$IMAGE" >/dev/null || { say "no $IMAGE: run make image first"; exit 1; }
  local run port ok=""
  run=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
  db="shop_image_smoke_$run"
  port=${SMOKE_PORT:-18765}
  secrets="$WORK/smoke-$run"
  container="shop-smoke-$run"
  mkdir -p "$secrets"
  python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$secrets/secret_key"
  python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$secrets/internal_secret"
  docker run --rm --network host --entrypoint python3 "$IMAGE" \
    -c 'from shop.web.jwt_keys import generate_private_key_pem as g; print(g(), end="")' >"$secrets/jwt.pem"
  echo "postgres://postgres@127.0.0.1:5432/$db" >"$secrets/database_url"
  chmod 644 "$secrets"/*
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" postgres
  # Globals: the EXIT trap runs after this function has returned.
  cleanup_smoke() {
    docker rm -f "$container" >/dev/null 2>&1 || true
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres || true
    rm -rf "$secrets"
    stop_engine
  }
  trap cleanup_smoke EXIT
  local env=(
    --network host --read-only --tmpfs /tmp
    -v "$secrets:/run/secrets/shop:ro"
    -e SECRET_KEY_FILE=/run/secrets/shop/secret_key
    -e SHOP_INTERNAL_SECRET_FILE=/run/secrets/shop/internal_secret
    -e JWT_PRIVATE_KEY_FILE=/run/secrets/shop/jwt.pem
    -e DATABASE_URL_FILE=/run/secrets/shop/database_url
    -e ALLOWED_HOSTS=localhost,127.0.0.1
    -e PORT="$port"
  )
  say "migrate (the one-shot role) on $db"
  docker run --rm "${env[@]}" "$IMAGE" migrate default
  say "web on 127.0.0.1:$port"
  docker run -d --name "$container" "${env[@]}" "$IMAGE" web >/dev/null
  for _ in $(seq 1 60); do
    if curl -fsS -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$port/readyz" >"$WORK/readyz.json" 2>/dev/null; then
      ok=1; break
    fi
    sleep 1
  done
  docker logs "$container" 2>&1 | tail -5 >&2
  if [ -z "$ok" ]; then say "/readyz did not answer 200"; exit 1; fi
  say "/readyz 200: $(cat "$WORK/readyz.json")"
  docker run --rm "${env[@]}" --entrypoint id "$IMAGE" >&2
}

case "${1:-}" in
  build) build ;;
  smoke) smoke ;;
  *) echo "usage: $0 build|smoke" >&2; exit 64 ;;
esac
