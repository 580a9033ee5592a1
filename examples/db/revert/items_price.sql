-- Revert slipway_demo:items_price from pg
BEGIN;
ALTER TABLE items DROP COLUMN price_cents;
COMMIT;
