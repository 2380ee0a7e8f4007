"""The audit trail of warehouses and locations (activity, priority); stock changes are in the ledger.

Rows that exist already get a baseline row each ("+", no user), so the first change after this
migration shows its old values. PostgreSQL then refuses any UPDATE or DELETE of history rows:
the trail is append-only (as the stock ledger, inventory 0002).
"""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

BASELINE_REASON = "existed before the audit trail"
AUDITED = ("Warehouse", "Location")

APPEND_ONLY = """
CREATE FUNCTION inventory_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: history rows cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION inventory_history_append_only();
"""
    for table in ["inventory_historicalwarehouse", "inventory_historicallocation"]
)

ALLOW_CHANGES = "".join(
    f"DROP TRIGGER {table}_append_only ON {table};\n"
    for table in ["inventory_historicalwarehouse", "inventory_historicallocation"]
) + ("DROP FUNCTION inventory_history_append_only();")


def baseline(apps, schema_editor):
    """One "+" history row per existing row, copied in SQL (one statement per table)."""
    quote = schema_editor.quote_name
    for name in AUDITED:
        model = apps.get_model("inventory", name)
        history = apps.get_model("inventory", f"Historical{name}")
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
        ("inventory", "0004_ledger_per_stock_row"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalLocation",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("code", models.CharField(max_length=64)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
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
                (
                    "warehouse",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="inventory.warehouse",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical location",
                "verbose_name_plural": "historical locations",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalWarehouse",
            fields=[
                ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                ("code", models.CharField(db_index=True, max_length=32)),
                ("name", models.CharField(max_length=200)),
                ("address", models.TextField(blank=True, default="")),
                ("priority", models.PositiveIntegerField(default=100)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
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
                "verbose_name": "historical warehouse",
                "verbose_name_plural": "historical warehouses",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(baseline, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, ALLOW_CHANGES),
    ]
