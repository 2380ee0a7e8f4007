# The API image: gunicorn with the production settings. `docker compose up` (make up) runs it next to PostgreSQL 16.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY . .

# Static files (admin, API docs) are collected at build time; the settings need a key and a URL to load.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_SECRET_KEY=build-only-not-a-secret \
    DATABASE_URL=postgres://build:build@localhost:5432/build \
    python manage.py collectstatic --noinput

# Uploaded product images (local storage): compose mounts a volume here; the directory exists, owned by
# the app user, so a new named volume takes that ownership.
RUN mkdir -p /app/media && useradd --create-home --uid 10001 app && chown -R app:app /app
USER app

ENV DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/app/media \
    HOST=0.0.0.0 \
    PORT=8000

EXPOSE 8000

# Plain HTTP to 127.0.0.1: /health is exempt from the HTTPS redirect; keep 127.0.0.1 in DJANGO_ALLOWED_HOSTS.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py createcachetable && exec gunicorn -c config/gunicorn.conf.py config.wsgi"]
