-- The order and customer lists filter by every key of the official clients' filters, and products
-- carry the groups they belong to.
--
-- Facets: values the filters compare that live inside the order and customer documents (contragent,
-- source, delivery service, tags, …), one row per value, written with the document by the same writer.
-- Text is lower-cased in Rust (SQLite's lower() folds ASCII only), so `value` compares as is; `num`
-- holds a number where the filter is a range (money in 1/10,000 units). Rows go with their entity.
CREATE TABLE order_facets (
    order_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    num BIGINT
);
CREATE INDEX order_facets_value ON order_facets (name, value, order_id);
CREATE INDEX order_facets_order ON order_facets (order_id);

CREATE TABLE customer_facets (
    customer_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    num BIGINT
);
CREATE INDEX customer_facets_value ON customer_facets (name, value, customer_id);
CREATE INDEX customer_facets_customer ON customer_facets (customer_id);

CREATE TRIGGER orders_facets_delete AFTER DELETE ON orders BEGIN
    DELETE FROM order_facets WHERE order_id = OLD.id;
END;
CREATE TRIGGER customers_facets_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_facets WHERE customer_id = OLD.id;
END;

-- The `notes` customer filter searches note texts in any case: a copy lower-cased in Rust.
ALTER TABLE customer_notes ADD COLUMN text_lower TEXT;

-- Products in product groups (`groups` of store/products), both ways indexed.
CREATE TABLE product_group_members (
    product_id BIGINT NOT NULL REFERENCES products (id),
    group_id BIGINT NOT NULL REFERENCES product_groups (id),
    PRIMARY KEY (product_id, group_id)
);
CREATE INDEX product_group_members_group ON product_group_members (group_id);

-- Filters that would otherwise scan every order of the sites asked for.
CREATE INDEX orders_delivery_date ON orders (delivery_date);
CREATE INDEX orders_shipment_date ON orders (shipment_date);
CREATE INDEX orders_status_updated ON orders (status_updated_at);
CREATE INDEX orders_manager ON orders (manager_id);
CREATE INDEX payments_paid ON payments (paid_at);
-- A customer's first and last order (firstOrderFrom, lastOrderTo, …) read from the index alone.
CREATE INDEX orders_customer_created ON orders (customer_id, is_test, created_at);
CREATE INDEX customers_manager ON customers (manager_id);
-- customerExternalId names a customer on any of the caller's sites.
CREATE INDEX customers_external ON customers (external_id);
