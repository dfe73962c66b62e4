# The hubsense collector (MQTT ingest, storage, API and dashboard) for docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY hubsense ./hubsense
COPY collector ./collector
COPY dashboard ./dashboard
COPY edge ./edge
RUN pip install ".[collector]"

# Hub configs are mounted at /etc/hubsense (HUBSENSE_CONFIG_PATHS); data lives in a volume.
RUN useradd --system --uid 10001 --home-dir /var/lib/hubsense hubsense \
    && mkdir -p /var/lib/hubsense /etc/hubsense \
    && chown hubsense /var/lib/hubsense
USER hubsense
WORKDIR /var/lib/hubsense
ENV HUBSENSE_SQLITE_PATH=/var/lib/hubsense/hubsense.sqlite3 \
    HUBSENSE_SPOOL_PATH=/var/lib/hubsense/spool.sqlite3 \
    HUBSENSE_CONFIG_PATHS='["/etc/hubsense"]' \
    HUBSENSE_HTTP_HOST=0.0.0.0

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["hubsense", "collector", "--log-level", "INFO"]
