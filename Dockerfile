# Multi-stage: build a virtualenv with the project, then copy it into a slim runtime image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml ./
COPY app ./app
# Editable install at the same path as at run time, so migrations/ and alembic.ini are found.
RUN /opt/venv/bin/pip install -e .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    LOYALTY_LOG_FORMAT=json
RUN useradd --system --uid 10001 --home-dir /app loyalty
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=loyalty pyproject.toml alembic.ini ./
COPY --chown=loyalty app ./app
COPY --chown=loyalty migrations ./migrations
USER loyalty
EXPOSE 8000
# LOYALTY_DATABASE_URL must point at PostgreSQL; migrations run before the server starts.
CMD ["sh", "-c", "loyalty migrate && exec loyalty serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
