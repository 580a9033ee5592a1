-- Deploy slipway_demo:items to pg
BEGIN;
CREATE TABLE items (
    id   integer PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO items (id, name) VALUES (1, 'anchor'), (2, 'bollard'), (3, 'cleat');
COMMIT;
