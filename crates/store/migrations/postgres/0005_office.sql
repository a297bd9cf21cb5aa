-- The distributor office face (seed 004). A distributor is named by a code; the first office key for a
-- new code creates it. Warehouses already carry their owner in `warehouses.distributor`; the office
-- face lists a distributor's warehouses and the orders shipped from them, so both lookups get an index.
CREATE TABLE distributors (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX warehouses_distributor ON warehouses (distributor);
CREATE INDEX orders_shipment_store ON orders (shipment_store);
CREATE INDEX order_items_warehouse ON order_items (warehouse);
