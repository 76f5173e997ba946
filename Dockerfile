# The web image: gunicorn behind whitenoise, run as an unprivileged user. Worker and beat use the same image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

RUN useradd --system --create-home --home-dir /home/trainerhub trainerhub

# The pinned, hash-checked dependencies first (their own layer, rebuilt only when the lock changes).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY config ./config
COPY tenants ./tenants
COPY shared_apps ./shared_apps
COPY tenant_apps ./tenant_apps
COPY themes ./themes
COPY manage.py ./
# Editable: the code runs from /app, with its templates and themes beside it.
RUN pip install --no-deps --no-build-isolation -e . && mkdir -p /app/var && chown trainerhub:trainerhub /app/var

# collectstatic needs settings but no database or real secrets.
RUN SECRET_KEY=collectstatic DATABASE_URL=postgres://unused@localhost/unused REDIS_URL=redis://unused \
    ALLOWED_HOSTS=localhost \
    PLATFORM_DOMAIN=localhost python manage.py collectstatic --noinput

USER trainerhub
EXPOSE 8000
# The settings of `make run` (config/gunicorn.py): threaded workers sized by WEB_CONCURRENCY and WEB_THREADS.
CMD ["gunicorn", "--config", "python:config.gunicorn", "--bind", "0.0.0.0:8000"]
