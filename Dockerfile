# ocm-bot as a container image: `ocm-bot webhook` by default (the Procfile's `web`), `ocm-bot run` for a
# worker that polls (the Procfile's `worker`; never both for one bot). See README.md, "Deployment".
#
#   docker build -t ocm-bot .
#   docker run --env-file .env -e WEBHOOK_URL=https://bot.example.org/telegram -p 8080:8080 ocm-bot
#   docker run --env-file .env ocm-bot ocm-bot run
#
# PYTHON_IMAGE: any Debian-based image with Python 3.11 at `python` (a registry mirror of the official one).
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the bot's wheel and a wheel of every pinned dependency (requirements.txt) -------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md requirements.txt ./
COPY scripts/check-wheel scripts/check-wheel
COPY ocm_bot ocm_bot
# Translations ship as .po files, compiled in memory at start: check that the wheel has every one.
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --quiet --upgrade pip \
    && /opt/build/bin/pip wheel --quiet --wheel-dir /wheels -r requirements.txt \
    && python scripts/check-wheel /wheels/ocm_bot-*.whl ocm_bot

# --- the image: the wheel installed (not editable) into a virtual environment, run as a plain user --
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /wheels /tmp/wheels
# Only the wheels built above, so the image holds exactly the versions of requirements.txt.
RUN python -m venv /opt/ocm-bot \
    && /opt/ocm-bot/bin/pip install --quiet --no-index --find-links /tmp/wheels ocm-bot \
    && rm -rf /tmp/wheels \
    && groupadd --system --gid 10001 ocm-bot \
    && useradd --system --uid 10001 --gid ocm-bot --home-dir /var/lib/ocm-bot --create-home --shell /usr/sbin/nologin ocm-bot
ENV PATH=/opt/ocm-bot/bin:$PATH \
    DATA_DIR=/var/lib/ocm-bot \
    WEBHOOK_LISTEN=0.0.0.0 \
    PORT=8080
USER ocm-bot
WORKDIR /var/lib/ocm-bot
# The SQLite file and the reference-data cache (DATA_DIR); with DATABASE_URL on PostgreSQL only the cache.
VOLUME ["/var/lib/ocm-bot"]
EXPOSE 8080
# GET /healthz on the bot's own HTTP server: the webhook's PORT, or METRICS_PORT for a polling worker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('METRICS_PORT') or os.environ.get('PORT') or '8443'), timeout=4)"]
CMD ["ocm-bot", "webhook"]
