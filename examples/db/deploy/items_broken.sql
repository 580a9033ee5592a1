-- Deploy slipway_demo:items_broken to pg
-- requires: items_price
-- Fails half way: the first statement succeeds, the second divides by zero,
-- and PostgreSQL rolls the whole transaction back.
BEGIN;
ALTER TABLE items ADD COLUMN weight_g integer;
UPDATE items SET weight_g = price_cents / 0;
COMMIT;
