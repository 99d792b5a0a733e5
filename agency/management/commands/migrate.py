"""`migrate`, connected as the owner role when DATABASE_OWNER_URL is set (agency/rls.py): the
portal's own role owns no table and may not create one. After the migrations, the post-migrate
step (re)applies the row-level security policies and the app role's grants."""

from __future__ import annotations

import dj_database_url
from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        if not settings.DATABASE_OWNER_URL or options.get("database", "default") != "default":
            return super().handle(*args, **options)
        owner = dj_database_url.parse(settings.DATABASE_OWNER_URL)
        connection = connections["default"]
        saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
        connection.close()
        connection.settings_dict.update(USER=owner["USER"], PASSWORD=owner.get("PASSWORD", ""))
        try:
            return super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(saved)
