# The hubsense collector (MQTT ingest, storage, API and dashboard) for docker-compose.yml; also
# runs 'hubsense deploy' (the preflight and deploy services), so the host needs no Python.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The collector's user.  .env (hubsense deploy init) may run it as another non-root id
# (HUBSENSE_UID); docker-compose.yml adds it to this group, which may write the data volume.
RUN groupadd --gid 10001 hubsense \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/hubsense --shell /usr/sbin/nologin hubsense \
    && mkdir -p /var/lib/hubsense /etc/hubsense \
    && chown hubsense:hubsense /var/lib/hubsense \
    && chmod 2770 /var/lib/hubsense

WORKDIR /app
# Pinned dependencies first (their own layer: a code change does not reinstall them).
COPY deploy/collector-constraints.txt ./
RUN pip install -r collector-constraints.txt
COPY pyproject.toml README.md ./
COPY hubsense ./hubsense
COPY collector ./collector
COPY dashboard ./dashboard
COPY edge ./edge
RUN pip install -c collector-constraints.txt ".[collector]" && pip check

# Hub configs are mounted at /etc/hubsense (HUBSENSE_CONFIG_PATHS); data lives in a volume.
USER hubsense
WORKDIR /var/lib/hubsense
ENV HUBSENSE_SQLITE_PATH=/var/lib/hubsense/hubsense.sqlite3 \
    HUBSENSE_SPOOL_PATH=/var/lib/hubsense/spool.sqlite3 \
    HUBSENSE_CONFIG_PATHS='["/etc/hubsense"]' \
    HUBSENSE_HTTP_HOST=0.0.0.0

EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HUBSENSE_HTTP_PORT', '8000'), timeout=4)"]
CMD ["hubsense", "collector", "--log-level", "INFO"]
