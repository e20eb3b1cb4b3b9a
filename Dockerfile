# exportcast service: the API on the bundled series, data kept in a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EXPORTCAST_HOST=0.0.0.0 \
    EXPORTCAST_PORT=8000 \
    EXPORTCAST_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY models ./models
COPY service ./service
RUN pip install . \
    && useradd --system --create-home --uid 10001 exportcast \
    && mkdir -p /data && chown exportcast /data

USER exportcast
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"EXPORTCAST_PORT\", \"8000\")}/healthz', timeout=4)"
CMD ["exportcast", "serve"]
