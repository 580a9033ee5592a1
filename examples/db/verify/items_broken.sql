-- Verify slipway_demo:items_broken on pg
SELECT weight_g FROM items WHERE FALSE;
