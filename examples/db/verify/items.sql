-- Verify slipway_demo:items on pg
SELECT id, name FROM items WHERE FALSE;
