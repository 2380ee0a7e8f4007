"""History rows are append-only: PostgreSQL refuses UPDATE and DELETE of them, whoever asks."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from accounts.models import Role
from catalog.services.brands import brand_create
from catalog.services.categories import category_create
from inventory.services.warehouses import warehouse_create
from tests.audit.helpers import AUDITED, trail

pytestmark = pytest.mark.django_db

# pg_trigger.tgtype bits
ROW, BEFORE, DELETE, UPDATE = 1, 2, 8, 16


def one_of_each(user_factory, product_factory) -> list:
    """An object of every audited model, each with its creation row in the trail."""
    product = product_factory(price=Decimal("5.00"))
    warehouse = warehouse_create(code="EAST", name="East")
    return [
        user_factory(role=Role.CUSTOMER),
        brand_create(name="Acme"),
        category_create(name="Lamps"),
        product,
        product.variants.get(),
        warehouse,
        warehouse.locations.get(),
    ]


def refused(statement) -> str:
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        statement()
    return str(raised.value)


def test_history_rows_cannot_be_updated_or_deleted_through_the_orm(user_factory, product_factory):
    for obj in one_of_each(user_factory, product_factory):
        rows = type(obj).history.filter(pk=trail(obj)[0].pk)
        before = list(rows.values())

        updated = refused(lambda rows=rows: rows.update(history_change_reason="rewritten"))
        deleted = refused(lambda rows=rows: rows.delete())

        table = rows.model._meta.db_table
        assert f"{table} is append-only: history rows cannot be changed or deleted" in updated
        assert f"{table} is append-only" in deleted
        assert list(rows.values()) == before


def test_history_rows_cannot_be_updated_or_deleted_in_sql(user_factory, product_factory):
    for obj in one_of_each(user_factory, product_factory):
        table = type(obj).history.model._meta.db_table
        row_id = trail(obj)[0].pk

        def run(sql: str, table=table, row_id=row_id) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql.format(table=connection.ops.quote_name(table)), [row_id])

        assert "append-only" in refused(
            lambda run=run: run("UPDATE {table} SET history_user_id = NULL WHERE history_id = %s")
        )
        assert "append-only" in refused(lambda run=run: run("DELETE FROM {table} WHERE history_id = %s"))
        assert type(obj).history.filter(pk=row_id).exists()


def test_every_history_table_has_the_append_only_trigger():
    audited = [model for model in apps.get_models() if hasattr(model._meta, "simple_history_manager_attribute")]
    assert set(audited) == set(AUDITED)  # a new audited model gets a trigger (and these tests) too
    for model in audited:
        table = model.history.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute("SELECT tgtype FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
            kinds = [row[0] for row in cursor.fetchall()]
        wanted = ROW | BEFORE | UPDATE | DELETE
        assert any(kind & wanted == wanted for kind in kinds), table
