-- Deploy slipway_demo:items_price to pg
-- requires: items
-- The slow change: a backfill that takes a few seconds (pg_sleep stands in
-- for the rows), in one transaction as sqitch runs it.
BEGIN;
ALTER TABLE items ADD COLUMN price_cents integer;
SELECT pg_sleep(4);
UPDATE items SET price_cents = 100 * id;
ALTER TABLE items ALTER COLUMN price_cents SET NOT NULL;
-- the application version before this change inserts rows without a price:
-- a default keeps its writes working once read-only ends (expand, then contract)
ALTER TABLE items ALTER COLUMN price_cents SET DEFAULT 0;
COMMIT;
