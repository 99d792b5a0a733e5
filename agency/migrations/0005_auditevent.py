# The audit log (issue 9): the table, and on PostgreSQL the trigger that keeps it append-only
# whatever the client (the model refuses updates and deletes too; the trigger also stops raw SQL).

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

# The one UPDATE let through: ON DELETE SET NULL of the actor when that account is deleted (the
# row is otherwise unchanged; actor_label keeps who it was). TRUNCATE fires no row trigger, so
# the test runner's flush between transactional tests still works.
CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION agency_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % of agency_auditevent refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER agency_auditevent_append_only
    BEFORE UPDATE OR DELETE ON agency_auditevent
    FOR EACH ROW EXECUTE FUNCTION agency_auditevent_append_only();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS agency_auditevent_append_only ON agency_auditevent;
DROP FUNCTION IF EXISTS agency_auditevent_append_only();
"""


def create_trigger(apps, schema_editor):
    # SQLite (the embedded demo) keeps the model's own refusal only.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRIGGER, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("agency", "0004_notification"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "actor_label",
                    models.CharField(blank=True, max_length=254, verbose_name="who"),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("login", "Signed in"),
                            ("login_failed", "Sign-in failed"),
                            ("lockout", "Sign-in locked after repeated failures"),
                            ("logout", "Signed out"),
                            ("proposal_approved", "Proposal approved"),
                            ("proposal_changes_requested", "Proposal changes requested"),
                            ("stage_moved", "Engagement stage moved"),
                            ("member_added", "Member added"),
                            ("member_role_changed", "Member's role changed"),
                            ("member_brands_changed", "Member's brands changed"),
                            ("member_deactivated", "Member deactivated"),
                            ("member_reactivated", "Member reactivated"),
                            ("invitation_resent", "Set-password link sent again"),
                            ("token_created", "API token created"),
                            ("token_revoked", "API token revoked"),
                            ("export_downloaded", "Engagement data exported"),
                            ("audit_log_exported", "Audit log exported"),
                        ],
                        max_length=40,
                        verbose_name="event type",
                    ),
                ),
                (
                    "target_type",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("user", "Account"),
                            ("member", "Member"),
                            ("engagement", "Engagement"),
                            ("proposal_version", "Proposal version"),
                            ("api_token", "API token"),
                            ("audit_log", "Audit log"),
                        ],
                        max_length=30,
                        verbose_name="object",
                    ),
                ),
                (
                    "target_id",
                    models.BigIntegerField(blank=True, null=True, verbose_name="object id"),
                ),
                (
                    "target",
                    models.CharField(blank=True, max_length=300, verbose_name="object name"),
                ),
                ("detail", models.JSONField(blank=True, default=dict, verbose_name="details")),
                (
                    "ip",
                    models.GenericIPAddressField(blank=True, null=True, verbose_name="IP address"),
                ),
                (
                    "user_agent",
                    models.CharField(blank=True, max_length=300, verbose_name="browser"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="time")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="who",
                    ),
                ),
                (
                    "agency",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="agency.agency",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["agency", "-created_at"], name="audit_event_recent")
                ],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("rows_in_hand", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
