# LiveGate gateway image: gunicorn on port 8000, state in PostgreSQL (LIVEGATE_DATABASE_URL)
# or in the SQLite file under /data.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-zenhei libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts ./scripts
COPY verification ./verification
COPY gateway ./gateway
COPY fixtures ./fixtures
RUN LIVEGATE_VENV=/opt/livegate bash scripts/install.sh
ENV PATH=/opt/livegate/bin:$PATH LIVEGATE_INSTANCE=/data
VOLUME /data
EXPOSE 8000
RUN useradd --system --home /data livegate && mkdir -p /data && chown livegate /data
USER livegate
CMD ["sh", "-c", "livegate init-db && exec livegate serve --host 0.0.0.0 --port 8000"]
