-- Revert slipway_demo:items from pg
BEGIN;
DROP TABLE items;
COMMIT;
