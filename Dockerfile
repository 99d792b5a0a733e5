# Production image: gunicorn + whitenoise for the web, the same image runs the Celery
# worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=agency.settings.production

# psycopg2-binary and pillow ship their own shared libraries in their wheels, translations are
# compiled with polib (no gettext), and the base image already has ca-certificates for SMTP over
# TLS. WeasyPrint (the PDF reports) needs Pango, HarfBuzz and fontconfig from Debian, and the Noto
# CJK fonts for Chinese text: the same list as scripts/system_packages.sh.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
       fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so editing the source does not invalidate this layer.
# pyproject.toml has `[tool.setuptools] packages = []`: installing `.` installs only the
# pinned dependencies; requirements.lock pins every transitive package.
COPY pyproject.toml requirements.lock ./
RUN pip install -c requirements.lock .

COPY . .

# Compile locale/*/LC_MESSAGES/django.po into .mo files (polib, no gettext needed).
RUN python scripts/compile_messages.py

# Production settings refuse to start with the development secret key (or any key shorter
# than 50 characters) or without a buyer-id hash key, so collectstatic runs with throwaway keys
# that exist only for this build step. They are not baked into the image; the real keys come
# from the environment at run time.
RUN DJANGO_SETTINGS_MODULE=agency.settings.production \
    SECRET_KEY=build-only-not-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \
    BUYER_ID_HASH_KEY=build-only-not-secret-xxxxxxxxxxxxxxxxx \
    python manage.py collectstatic --noinput

# Non-root user. /app/media is created and owned by `app` here so that a named volume mounted
# there starts out writable by the app (Docker copies the directory's ownership on first use).
RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/media \
    && chown app:app /app/media
USER app

EXPOSE 8000

CMD ["gunicorn", "agency.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
