# One image for web (gunicorn), worker (Celery) and beat (Celery beat).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 app
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .
# collectstatic needs no database and no secrets: a throwaway key is enough here.
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --no-input -v0

USER app
EXPOSE 8000
CMD ["gunicorn", "tourism.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
