"""Celery tasks of the proposals app (none: sending and deciding are synchronous, in the request;
their e-mails go out through `agency.tasks.send_notification_emails`)."""
