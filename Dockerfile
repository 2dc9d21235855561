# One image for every role of the shop: web, internal, worker, beat, migrate (deploy/docker/entrypoint.sh,
# docs/deploy.md). Build: `make image`. Offline machines build PYTHON_IMAGE themselves (make image does).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the wheels of every pinned dependency, installed into a virtualenv -------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt constraints.txt ./
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip wheel --wheel-dir=/build/wheels -r requirements.txt -c constraints.txt \
    && /opt/venv/bin/pip install --no-index --find-links=/build/wheels -r requirements.txt -c constraints.txt

# --- the image: the virtualenv, the code and its static files; no compiler, no pip cache, a non-root user -----
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=shop.settings \
    SHOP_ENV=production
# A numeric user, so Kubernetes can check runAsNonRoot.
RUN groupadd --gid 10001 shop \
    && useradd --uid 10001 --gid shop --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin shop
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY manage.py ./
COPY shop ./shop
COPY deploy/docker/entrypoint.sh /usr/local/bin/shop
# Static files (admin, Swagger UI) hashed and compressed at build time, served by the app (whitenoise). The
# settings refuse to load in production without their secrets: throwaway ones here, used for nothing else.
RUN SECRET_KEY="collectstatic-only-$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    SHOP_INTERNAL_SECRET="collectstatic-only-$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    JWT_PRIVATE_KEY="$(python3 -c 'from shop.web.jwt_keys import generate_private_key_pem; print(generate_private_key_pem())')" \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python3 manage.py collectstatic --noinput -v 0 \
    && rm -f /tmp/collectstatic.sqlite3
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["shop"]
CMD ["web"]
