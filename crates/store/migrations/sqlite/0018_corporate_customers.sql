-- Corporate customers (`customers-corporate`): organisations that buy. Each has addresses, companies
-- (legal entities with their details; `inn` copied out of the document so an invoice to a legal
-- customer finds its company) and contacts (individual customers acting for it). `search` is the
-- lower-cased name the `name` filter compares. Orders name a corporate customer, one of its companies
-- and its contact person (`orders.corporate_id`, `company_id`, `contact_id`, the last a customer id).
CREATE TABLE corporate_customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    external_id TEXT,
    search TEXT NOT NULL DEFAULT '',
    manager_id BIGINT,
    vip BIGINT NOT NULL DEFAULT 0,
    bad BIGINT NOT NULL DEFAULT 0,
    discount_card TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX corporate_customers_external ON corporate_customers (site, external_id);
CREATE INDEX corporate_customers_created ON corporate_customers (created_at);

CREATE TABLE corporate_custom_fields (
    corporate_id BIGINT NOT NULL REFERENCES corporate_customers (id),
    code TEXT NOT NULL,
    value_text TEXT,
    value_num BIGINT
);
CREATE INDEX corporate_custom_fields_owner ON corporate_custom_fields (corporate_id);
CREATE INDEX corporate_custom_fields_code ON corporate_custom_fields (code, value_text);

CREATE TABLE corporate_addresses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    corporate_id BIGINT NOT NULL REFERENCES corporate_customers (id),
    external_id TEXT,
    name TEXT,
    is_main BIGINT NOT NULL DEFAULT 0,
    city TEXT,
    region TEXT,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX corporate_addresses_external ON corporate_addresses (corporate_id, external_id);

CREATE TABLE corporate_companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    corporate_id BIGINT NOT NULL REFERENCES corporate_customers (id),
    external_id TEXT,
    name TEXT NOT NULL,
    is_main BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    inn TEXT,
    address_id BIGINT REFERENCES corporate_addresses (id),
    created_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX corporate_companies_external ON corporate_companies (corporate_id, external_id);
CREATE INDEX corporate_companies_inn ON corporate_companies (inn);

CREATE TABLE corporate_contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    corporate_id BIGINT NOT NULL REFERENCES corporate_customers (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    is_main BIGINT NOT NULL DEFAULT 0,
    companies TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX corporate_contacts_pair ON corporate_contacts (corporate_id, customer_id);
CREATE INDEX corporate_contacts_customer ON corporate_contacts (customer_id);

CREATE TABLE corporate_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    corporate_id BIGINT NOT NULL REFERENCES corporate_customers (id),
    manager_id BIGINT,
    text TEXT NOT NULL,
    text_lower TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX corporate_notes_owner ON corporate_notes (corporate_id);

-- Corporate customer history: a record's id is its number. Corporate writes run one at a time (one
-- writer here; an advisory lock on PostgreSQL), so ids follow commit order. `item` is the address,
-- company or contact a record is about.
CREATE TABLE corporate_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    corporate_id BIGINT NOT NULL,
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
CREATE INDEX corporate_history_owner ON corporate_history (corporate_id, id);
CREATE INDEX corporate_history_created ON corporate_history (created_at);

ALTER TABLE orders ADD COLUMN corporate_id BIGINT REFERENCES corporate_customers (id);
ALTER TABLE orders ADD COLUMN company_id BIGINT REFERENCES corporate_companies (id);
ALTER TABLE orders ADD COLUMN contact_id BIGINT REFERENCES customers (id);
CREATE INDEX orders_corporate ON orders (corporate_id);

-- A parts key may act for a corporate customer: its orders are the corporate customer's.
ALTER TABLE api_keys ADD COLUMN corporate_id BIGINT REFERENCES corporate_customers (id);

-- What the corporate customer list filters compare (see facets.rs): its companies' legal details, its
-- addresses' places, its discount card and tags, one row per value.
CREATE TABLE corporate_facets (
    corporate_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    num BIGINT
);
CREATE INDEX corporate_facets_value ON corporate_facets (name, value, corporate_id);
CREATE INDEX corporate_facets_owner ON corporate_facets (corporate_id);
