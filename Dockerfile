# The indexer image for deployments (docker-compose.yml); not used by the tests.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY indexer ./indexer
COPY migrations ./migrations
COPY config ./config
RUN pip install --no-cache-dir . \
    && useradd --system --home /app indexer
USER indexer
ENTRYPOINT ["indexer"]
CMD ["schedule"]
