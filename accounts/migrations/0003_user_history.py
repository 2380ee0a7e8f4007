"""The audit trail of accounts: role and activity changes (never the password hash).

Rows that exist already get a baseline row each ("+", no user), so the first change after this
migration shows its old values. PostgreSQL then refuses any UPDATE or DELETE of history rows:
the trail is append-only (as the stock ledger, inventory 0002).
"""

import uuid

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

BASELINE_REASON = "existed before the audit trail"
AUDITED = ("User",)

APPEND_ONLY = """
CREATE FUNCTION accounts_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: history rows cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION accounts_history_append_only();
"""
    for table in ["accounts_historicaluser"]
)

ALLOW_CHANGES = "".join(f"DROP TRIGGER {table}_append_only ON {table};\n" for table in ["accounts_historicaluser"]) + (
    "DROP FUNCTION accounts_history_append_only();"
)


def baseline(apps, schema_editor):
    """One "+" history row per existing row, copied in SQL (one statement per table)."""
    quote = schema_editor.quote_name
    for name in AUDITED:
        model = apps.get_model("accounts", name)
        history = apps.get_model("accounts", f"Historical{name}")
        columns = ", ".join(
            quote(field.column) for field in history._meta.concrete_fields if not field.name.startswith("history_")
        )
        schema_editor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} "
            f"({columns}, history_date, history_type, history_change_reason) "
            f"SELECT {columns}, now(), '+', %s FROM {quote(model._meta.db_table)} ORDER BY id",
            [BASELINE_REASON],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_token_family"),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalUser",
            fields=[
                ("id", models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                ("email", models.EmailField(db_index=True, max_length=254)),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("ADMIN", "Admin"),
                            ("INVENTORY_MANAGER", "Inventory manager"),
                            ("CUSTOMER", "Customer"),
                        ],
                        default="CUSTOMER",
                        max_length=32,
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
                ("date_joined", models.DateTimeField(default=django.utils.timezone.now)),
                ("history_id", models.BigAutoField(editable=False, primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical user",
                "verbose_name_plural": "historical users",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(baseline, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, ALLOW_CHANGES),
    ]
