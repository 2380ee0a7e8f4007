-- The raw-SQL ceiling: what POST /orders does in the database, as one pgbench transaction.
-- Lock the sellable stock rows of two variants in id order; per variant, one guarded update of
-- `reserved` on the row allocation picks (highest-priority warehouse, then most available);
-- then the two reservations with their allocations, the two RESERVE ledger rows, the order and
-- its items (variant_id, reservation_id), all in one statement.
-- Variables (pgbench -D): lo, hi (variant id range), user_id (substituted inside the quotes).
\set v1 random(:lo, :hi)
\set v2 :lo + ((:v1 - :lo + random(1, :hi - :lo)) % (:hi - :lo + 1))
\set a least(:v1, :v2)
\set b greatest(:v1, :v2)
BEGIN;
SELECT s.id, s.on_hand, s.reserved
  FROM inventory_stock s
  JOIN inventory_location l ON l.id = s.location_id
  JOIN inventory_warehouse w ON w.id = l.warehouse_id
 WHERE s.variant_id IN (:a, :b) AND l.is_active AND w.is_active AND s.on_hand > s.reserved
 ORDER BY s.id
   FOR UPDATE OF s;
WITH new_order AS (
  SELECT gen_random_uuid() AS id
), stock AS (
  UPDATE inventory_stock
     SET reserved = reserved + 1, updated_at = now()
   WHERE id IN (
           SELECT DISTINCT ON (s.variant_id) s.id
             FROM inventory_stock s
             JOIN inventory_location l ON l.id = s.location_id
             JOIN inventory_warehouse w ON w.id = l.warehouse_id
            WHERE s.variant_id IN (:a, :b) AND l.is_active AND w.is_active AND s.on_hand - s.reserved >= 1
            ORDER BY s.variant_id, w.priority, w.code, s.on_hand - s.reserved DESC, l.code
         )
     AND on_hand - reserved >= 1
  RETURNING id, variant_id, on_hand, reserved
), line AS (
  SELECT nextval(pg_get_serial_sequence('inventory_reservation', 'id')) AS reservation_id,
         stock.id AS stock_id, stock.on_hand, stock.reserved,
         v.id AS variant_id, v.sku, v.name AS variant_name, v.price, p.id AS product_id, p.name AS product_name,
         new_order.id AS order_id, 'order:' || new_order.id || ':' || v.sku AS reference
    FROM stock
    JOIN catalog_variant v ON v.id = stock.variant_id
    JOIN catalog_product p ON p.id = v.product_id
   CROSS JOIN new_order
), reservations AS (
  INSERT INTO inventory_reservation (id, status, reference, order_id, actor_id, created_at)
  SELECT reservation_id, 'ALLOCATED', reference, order_id, ':user_id'::uuid, now() FROM line
), allocations AS (
  INSERT INTO inventory_allocation (reservation_id, stock_id, quantity)
  SELECT reservation_id, stock_id, 1 FROM line
), ledger AS (
  INSERT INTO inventory_stockmovement
    (stock_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reservation_id, order_id,
     reference, actor_id, reason, created_at)
  SELECT stock_id, 'RESERVE', 0, 1, on_hand, reserved, reservation_id, order_id, reference, ':user_id'::uuid, '', now()
    FROM line
), placed AS (
  INSERT INTO orders_order
    (id, user_id, status, subtotal, shipping_amount, total_amount, currency, created_at, request_hash)
  SELECT new_order.id, ':user_id'::uuid, 'PENDING', total.amount, 0.00, total.amount, 'USD', now(), ''
    FROM new_order, (SELECT COALESCE(SUM(price), 0.00) AS amount FROM line) AS total
)
INSERT INTO orders_orderitem
  (order_id, product_id, variant_id, reservation_id, product_name, variant_name, sku, quantity,
   unit_price_at_purchase, line_total)
SELECT order_id, product_id, variant_id, reservation_id, product_name, variant_name, sku, 1, price, price FROM line;
END;
