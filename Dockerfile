# FlexPool's production image: one image for web (gunicorn), Celery worker, Celery beat and
# the one-shot migrate step; docker-compose.yml picks the command. Static files are built
# into the image and served by WhiteNoise.

# --- front-end assets: GOV.UK Frontend and htmx copied out of npm packages ---------------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY scripts/copy_assets.mjs scripts/copy_assets.mjs
RUN npm run --silent build

# --- the application ---------------------------------------------------------------------
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=flexpool.settings \
    FLEXPOOL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN useradd --create-home --uid 10001 flexpool
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes --no-deps -r requirements/base.txt
COPY . .
COPY --from=assets /src/static/vendor static/vendor
# collectstatic runs with production settings; this throwaway key exists only in this step.
RUN DEBUG=false SECRET_KEY=build-time-only-collectstatic ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/private-media \
    && chown -R flexpool:flexpool /app/var
USER flexpool
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck.py", "web"]
CMD ["gunicorn", "flexpool.wsgi", "--config", "gunicorn.conf.py"]
