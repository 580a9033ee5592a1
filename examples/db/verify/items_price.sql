-- Verify slipway_demo:items_price on pg
SELECT 1 / (COUNT(*) = 0)::int FROM items WHERE price_cents IS NULL;
