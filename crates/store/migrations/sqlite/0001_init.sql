-- torg's first schema. Money and quantities are BIGINT in 1/10,000 units; instants are Unix seconds;
-- flags are 0/1; free-form attributes are JSON text. The PostgreSQL twin differs only in id columns.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    url TEXT,
    ordering BIGINT NOT NULL DEFAULT 0,
    attrs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE warehouses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    distributor TEXT,
    attrs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE reference_entries (
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    ordering BIGINT NOT NULL DEFAULT 0,
    attrs TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (kind, code)
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    sites TEXT NOT NULL,
    allowed_ips TEXT NOT NULL DEFAULT '[]',
    customer_id BIGINT,
    distributor TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    patronymic TEXT,
    email TEXT,
    code TEXT,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    external_id TEXT,
    email TEXT,
    phones TEXT NOT NULL DEFAULT '',
    search TEXT NOT NULL DEFAULT '',
    manager_id BIGINT,
    vip BIGINT NOT NULL DEFAULT 0,
    bad BIGINT NOT NULL DEFAULT 0,
    sex TEXT,
    city TEXT,
    region TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (site, external_id)
);
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_created ON customers (created_at);

CREATE TABLE customer_custom_fields (
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    code TEXT NOT NULL,
    value_text TEXT,
    value_num BIGINT,
    PRIMARY KEY (customer_id, code)
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT UNIQUE,
    article TEXT,
    brand TEXT,
    name TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    attrs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products (id),
    external_id TEXT UNIQUE,
    xml_id TEXT UNIQUE,
    name TEXT NOT NULL,
    article TEXT,
    price BIGINT NOT NULL DEFAULT 0,
    purchase_price BIGINT,
    active BIGINT NOT NULL DEFAULT 1,
    attrs TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    external_id TEXT,
    status TEXT NOT NULL,
    customer_id BIGINT,
    email TEXT,
    phones TEXT NOT NULL DEFAULT '',
    search TEXT NOT NULL DEFAULT '',
    order_type TEXT,
    order_method TEXT,
    delivery_type TEXT,
    shipment_store TEXT,
    manager_id BIGINT,
    payment_status TEXT,
    payment_type TEXT,
    summ BIGINT NOT NULL DEFAULT 0,
    total_summ BIGINT NOT NULL DEFAULT 0,
    prepay_sum BIGINT NOT NULL DEFAULT 0,
    purchase_summ BIGINT NOT NULL DEFAULT 0,
    delivery_cost BIGINT NOT NULL DEFAULT 0,
    track_numbers TEXT NOT NULL DEFAULT '',
    city TEXT,
    region TEXT,
    manager_comment TEXT,
    customer_comment TEXT,
    is_test BIGINT NOT NULL DEFAULT 0,
    from_api BIGINT NOT NULL DEFAULT 0,
    shipment_date TEXT,
    delivery_date TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    status_updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (site, external_id)
);
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_status_created ON orders (status, created_at);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_site_created ON orders (site, created_at);
CREATE INDEX orders_email ON orders (email);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    position BIGINT NOT NULL,
    offer_id BIGINT,
    product_name TEXT,
    quantity BIGINT NOT NULL,
    initial_price BIGINT NOT NULL,
    status TEXT NOT NULL,
    warehouse TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_offer ON order_items (offer_id);

CREATE TABLE order_custom_fields (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    code TEXT NOT NULL,
    value_text TEXT,
    value_num BIGINT,
    PRIMARY KEY (order_id, code)
);
CREATE INDEX order_custom_fields_num ON order_custom_fields (code, value_num);
CREATE INDEX order_custom_fields_text ON order_custom_fields (code, value_text);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    external_id TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    paid_at BIGINT,
    comment TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE order_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    api_key_id BIGINT,
    user_id BIGINT,
    created BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    entity TEXT NOT NULL,
    item TEXT
);
CREATE INDEX order_history_order ON order_history (order_id, id);
CREATE INDEX order_history_created ON order_history (created_at);

CREATE TABLE customer_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    api_key_id BIGINT,
    user_id BIGINT,
    created BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    entity TEXT NOT NULL,
    item TEXT
);
CREATE INDEX customer_history_customer ON customer_history (customer_id, id);
CREATE INDEX customer_history_created ON customer_history (created_at);

CREATE TABLE calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date BIGINT NOT NULL,
    kind TEXT NOT NULL,
    phone TEXT NOT NULL,
    code TEXT,
    user_id BIGINT,
    result TEXT,
    duration BIGINT,
    external_id TEXT UNIQUE,
    site TEXT,
    attrs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE call_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone TEXT NOT NULL,
    kind TEXT NOT NULL,
    codes TEXT NOT NULL DEFAULT '[]',
    user_ids TEXT NOT NULL DEFAULT '[]',
    site TEXT,
    attrs TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
