# The indexer image for deployments (docker-compose.yml); not used by the tests.
# The wheel carries the migrations, so the image keeps no source tree: it runs in an
# empty working directory, as any installed copy would.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md /src/
COPY indexer /src/indexer
COPY migrations /src/migrations
RUN pip install --no-cache-dir /src \
    && rm -rf /src \
    && useradd --system --create-home --home-dir /var/lib/indexer indexer
USER indexer
WORKDIR /var/lib/indexer
ENTRYPOINT ["indexer"]
CMD ["schedule", "--run-now"]
