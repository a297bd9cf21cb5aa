-- Issue 9: an index on a column most orders leave empty now holds only the rows with a value. A new
-- order without a manager, delivery or shipment date, shipment store or corporate customer (most of
-- them, when they arrive) no longer writes an entry into each of those five indexes, nor a payment
-- not yet paid into `payments_paid`. Every filter on these columns compares them (`=`, `IN`, `>=`,
-- `<=`, a join on equality, `IS NOT NULL`), which implies a value, so both engines still use the
-- indexes for them. `orders_customer` goes: `orders_customer_created` begins with `customer_id`.
DROP INDEX orders_customer;
DROP INDEX orders_manager;
CREATE INDEX orders_manager ON orders (manager_id) WHERE manager_id IS NOT NULL;
DROP INDEX orders_delivery_date;
CREATE INDEX orders_delivery_date ON orders (delivery_date) WHERE delivery_date IS NOT NULL;
DROP INDEX orders_shipment_date;
CREATE INDEX orders_shipment_date ON orders (shipment_date) WHERE shipment_date IS NOT NULL;
DROP INDEX orders_shipment_store;
CREATE INDEX orders_shipment_store ON orders (shipment_store) WHERE shipment_store IS NOT NULL;
DROP INDEX orders_corporate;
CREATE INDEX orders_corporate ON orders (corporate_id) WHERE corporate_id IS NOT NULL;
DROP INDEX payments_paid;
CREATE INDEX payments_paid ON payments (paid_at) WHERE paid_at IS NOT NULL;
