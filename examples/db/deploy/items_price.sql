-- Deploy slipway_demo:items_price to pg
-- requires: items
-- The slow change: a backfill that takes a few seconds (pg_sleep stands in
-- for the rows), in one transaction as sqitch runs it.
BEGIN;
ALTER TABLE items ADD COLUMN price_cents integer;
SELECT pg_sleep(4);
UPDATE items SET price_cents = 100 * id;
ALTER TABLE items ALTER COLUMN price_cents SET NOT NULL;
COMMIT;
