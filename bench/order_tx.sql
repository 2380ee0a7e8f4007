-- The raw-SQL ceiling: what POST /orders does in the database, as one pgbench transaction.
-- Lock two products in id order, two guarded updates, the order and its items, the two ledger rows.
-- Variables (pgbench -D): lo, hi (product id range), user_id (substituted inside the quotes). Bench products cost 10.00.
\set p1 random(:lo, :hi)
\set p2 :lo + ((:p1 - :lo + random(1, :hi - :lo)) % (:hi - :lo + 1))
\set a least(:p1, :p2)
\set b greatest(:p1, :p2)
BEGIN;
SELECT id, sku, name, price FROM inventory_product WHERE id IN (:a, :b) ORDER BY id FOR UPDATE;
UPDATE inventory_product
   SET stock_quantity = stock_quantity - 1, reserved_quantity = reserved_quantity + 1,
       version = version + 1, updated_at = now()
 WHERE id = :a AND stock_quantity >= 1;
UPDATE inventory_product
   SET stock_quantity = stock_quantity - 1, reserved_quantity = reserved_quantity + 1,
       version = version + 1, updated_at = now()
 WHERE id = :b AND stock_quantity >= 1;
WITH new_order AS (
  INSERT INTO orders_order (id, user_id, status, subtotal, shipping_amount, total_amount, created_at, request_hash)
  VALUES (gen_random_uuid(), ':user_id'::uuid, 'PENDING', 20.00, 0.00, 20.00, now(), '')
  RETURNING id
), items AS (
  INSERT INTO orders_orderitem (order_id, product_id, product_name, sku, quantity, unit_price_at_purchase, line_total)
  SELECT new_order.id, p.id, p.name, p.sku, 1, p.price, p.price FROM new_order, inventory_product p WHERE p.id IN (:a, :b)
)
INSERT INTO inventory_stockmovement
  (product_id, kind, available_delta, reserved_delta, available_after, reserved_after, order_id, reason, created_at)
SELECT p.id, 'RESERVE', -1, 1, p.stock_quantity, p.reserved_quantity, new_order.id, '', now()
  FROM new_order, inventory_product p WHERE p.id IN (:a, :b);
END;
