-- Files (files/*): their bytes live on disk beside the database file, one file per id; the rows say
-- what they are and what they are attached to. Delivery shipments (delivery/shipments/*): a shipment
-- groups orders handed to a delivery service on a date.
CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filename TEXT NOT NULL,
    type TEXT NOT NULL,
    size BIGINT NOT NULL,
    site TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_created ON files (created_at);

CREATE TABLE file_attachments (
    file_id BIGINT NOT NULL REFERENCES files (id),
    order_id BIGINT REFERENCES orders (id),
    customer_id BIGINT REFERENCES customers (id)
);
CREATE INDEX file_attachments_file ON file_attachments (file_id);
CREATE INDEX file_attachments_order ON file_attachments (order_id);
CREATE INDEX file_attachments_customer ON file_attachments (customer_id);

CREATE TABLE delivery_shipments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    integration_code TEXT,
    delivery_type TEXT NOT NULL,
    store TEXT,
    manager_id BIGINT,
    status TEXT NOT NULL,
    date TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX delivery_shipments_date ON delivery_shipments (date);

CREATE TABLE delivery_shipment_orders (
    shipment_id BIGINT NOT NULL REFERENCES delivery_shipments (id),
    order_id BIGINT NOT NULL REFERENCES orders (id),
    PRIMARY KEY (shipment_id, order_id)
);
CREATE INDEX delivery_shipment_orders_order ON delivery_shipment_orders (order_id);
