-- Revert slipway_demo:items_broken from pg
BEGIN;
ALTER TABLE items DROP COLUMN weight_g;
COMMIT;
