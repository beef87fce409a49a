# SnakeTron game server. `docker compose up` runs it next to LocalStack;
# docker-compose.dev.yml builds the `dev` target (source mounted, reload on change).
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first so that code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY server ./server
RUN pip install .

RUN useradd --create-home --uid 10001 snaketron
USER snaketron

# Listen on every interface inside the container; ports as in PROTOCOL.md.
# Production mode: the server refuses to start until SNAKETRON_JWT_SECRET and
# SNAKETRON_CLUSTER_SECRET (32+ bytes each, `snaketron secret`) and a DynamoDB
# endpoint (or AWS) are given in the environment.
# Stopping: on SIGTERM the server drains (running games may finish within
# SNAKETRON_DRAIN_GRACE_SECONDS), then flushes within SNAKETRON_SHUTDOWN_FLUSH_SECONDS
# (5 s) and exits. `docker stop` kills after 10 s, so the image's grace is 2 s
# (2 + 5 s, and about 2 s to close, fit in 10). For a longer grace raise the stop
# timeout with it: `docker stop -t`, `docker run --stop-timeout`, or compose's
# stop_grace_period (docker-compose.yml: grace 30 s, stop_grace_period 40s).
ENV SNAKETRON_HOST=0.0.0.0 \
    SNAKETRON_WS_PORT=8080 \
    SNAKETRON_API_PORT=3001 \
    SNAKETRON_DEV_MODE=0 \
    SNAKETRON_DRAIN_GRACE_SECONDS=2
EXPOSE 8080 3001

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3001/api/health', timeout=2)"

CMD ["snaketron", "serve"]


# Development: the source is bind-mounted over /app/server and installed in
# editable mode; watchfiles restarts the server when a Python file changes.
FROM runtime AS dev
USER root
RUN pip install -e . watchfiles
USER snaketron
# Development mode: the published development secrets stand in for missing ones.
ENV SNAKETRON_DEV_MODE=1
CMD ["watchfiles", "--filter", "python", "snaketron serve", "/app/server"]
