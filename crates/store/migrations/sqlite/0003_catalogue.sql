-- The catalogue behind the parts face and the CRM store methods: part numbers and brands in their
-- normalised forms (what search compares), cross-references (both directions stored, so one index
-- lookup finds every analogue), warehouse delivery terms, stock per offer and warehouse with
-- reservations, prices per price type.
ALTER TABLE products ADD COLUMN article_norm TEXT;
ALTER TABLE products ADD COLUMN brand_norm TEXT;
ALTER TABLE products ADD COLUMN description TEXT;
CREATE INDEX products_article_norm ON products (article_norm);
CREATE UNIQUE INDEX products_brand_article ON products (brand_norm, article_norm);

ALTER TABLE offers ADD COLUMN min_qty BIGINT NOT NULL DEFAULT 1;
CREATE INDEX offers_product ON offers (product_id);

ALTER TABLE warehouses ADD COLUMN period_min BIGINT NOT NULL DEFAULT 0;
ALTER TABLE warehouses ADD COLUMN period_max BIGINT NOT NULL DEFAULT 0;
ALTER TABLE warehouses ADD COLUMN probability BIGINT;
ALTER TABLE warehouses ADD COLUMN display TEXT NOT NULL DEFAULT 'exact';

CREATE TABLE brand_aliases (
    alias TEXT PRIMARY KEY,
    brand TEXT NOT NULL
);

CREATE TABLE crosses (
    article_norm TEXT NOT NULL,
    brand_norm TEXT NOT NULL,
    cross_norm TEXT NOT NULL,
    cross_brand_norm TEXT NOT NULL,
    PRIMARY KEY (article_norm, brand_norm, cross_norm, cross_brand_norm)
);

CREATE TABLE stock (
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    available BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    reported TEXT,
    price BIGINT,
    purchase_price BIGINT,
    min_qty BIGINT,
    period_min BIGINT,
    period_max BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (offer_id, warehouse_id)
);
CREATE INDEX stock_warehouse ON stock (warehouse_id);

CREATE TABLE offer_prices (
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    price_type TEXT NOT NULL,
    price BIGINT NOT NULL,
    PRIMARY KEY (offer_id, price_type)
);

CREATE TABLE reservations (
    order_id BIGINT NOT NULL,
    offer_id BIGINT NOT NULL,
    warehouse_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (order_id, offer_id, warehouse_id)
);
