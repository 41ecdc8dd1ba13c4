# Multi-stage: build a virtualenv with the project, then copy it into a slim runtime image.
# Runtime dependencies only, exactly as locked (hashes checked): no embedded PostgreSQL
# (pgserver), no test or lint tools. Any supported Python: --build-arg PYTHON_VERSION=3.13.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements/runtime.txt ./requirements/
RUN /opt/venv/bin/pip install --require-hashes --only-binary :all: -r requirements/runtime.txt
COPY pyproject.toml LICENSE ./
COPY app ./app
# Editable install at the same path as at run time, so migrations/ and alembic.ini are found.
RUN /opt/venv/bin/pip install --no-deps -e .

FROM python:${PYTHON_VERSION}-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    LOYALTY_LOG_FORMAT=json PORT=8000 WORKERS=2
RUN useradd --system --uid 10001 --home-dir /app loyalty
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code stays root's: the service's user can read it, not change it.
COPY pyproject.toml alembic.ini LICENSE ./
COPY app ./app
COPY migrations ./migrations
USER loyalty
EXPOSE 8000
# Ready (database reachable, schema at head) on $PORT, with the standard library (the slim image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=4)"]
# LOYALTY_DATABASE_URL must point at PostgreSQL. Migrations run before the server starts, under
# a PostgreSQL advisory lock: replicas starting together take turns, the later ones find the
# schema at head.
CMD ["sh", "-c", "loyalty migrate && exec loyalty serve --host 0.0.0.0 --port \"$PORT\" --workers \"$WORKERS\""]
