"""The stock ledger is append-only: PostgreSQL refuses any UPDATE of its rows.

Rows leave only with their product (a product no order touched may be deleted).
"""

from django.db import migrations

FORBID_UPDATE = """
CREATE FUNCTION inventory_stockmovement_forbid_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inventory_stockmovement is append-only: rows cannot be updated'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER inventory_stockmovement_no_update
    BEFORE UPDATE ON inventory_stockmovement
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmovement_forbid_update();
"""

ALLOW_UPDATE = """
DROP TRIGGER inventory_stockmovement_no_update ON inventory_stockmovement;
DROP FUNCTION inventory_stockmovement_forbid_update();
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_products_and_ledger")]

    operations = [migrations.RunSQL(FORBID_UPDATE, ALLOW_UPDATE)]
