"""The project package and the tenancy app: agencies, users, memberships, brands and stores."""

from agency.celery import app as celery_app

__all__ = ["celery_app"]
