# syntax=docker/dockerfile:1
# Build stage: a wheel of the project and its dependencies in a virtual environment.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY service ./service
COPY features ./features
COPY models ./models
COPY graphs ./graphs
COPY world ./world
RUN /opt/venv/bin/pip install --no-compile .

# Runtime stage: the virtual environment only, run as an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CATCHALL_HOME=/data \
    CATCHALL_LOG_FORMAT=json \
    OMP_NUM_THREADS=1
RUN useradd --create-home --uid 10001 catchall && mkdir /data && chown catchall:catchall /data
COPY --from=build /opt/venv /opt/venv
USER 10001
WORKDIR /home/catchall
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["catchall", "serve", "--host", "0.0.0.0", "--port", "8000"]
