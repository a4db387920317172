# One image for the API (the default command) and the worker (docker-compose.yml overrides it).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 initlab

# dependencies first: this layer is rebuilt only when requirements.txt changes
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY engine ./engine
COPY store ./store
COPY worker ./worker
COPY api ./api
COPY scripts ./scripts

USER initlab
EXPOSE 8000
# the API logs each request itself (api.access, with its request and job ids)
CMD ["python", "-m", "api.server", "--host", "0.0.0.0", "--port", "8000"]
