-- Billing (issue 5): sites' billing settings, invoices (Invoicebox payment orders) with their refunds,
-- and the durable event outbox that webhooks are sent from. Money in 1/10,000 units, instants in Unix
-- seconds, outbox times in Unix milliseconds (retry schedules can be short in tests).
CREATE TABLE billing_settings (
    site TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL UNIQUE,
    notification_key TEXT,
    signing_key TEXT,
    notification_url TEXT,
    test_mode BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

CREATE TABLE invoices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    container_id TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    merchant_order_id TEXT NOT NULL,
    order_id BIGINT,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    vat_amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    language TEXT NOT NULL,
    description TEXT NOT NULL,
    processable BIGINT NOT NULL DEFAULT 1,
    notification_url TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    paid_at BIGINT,
    updated_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (merchant_id, merchant_order_id)
);
CREATE INDEX invoices_order ON invoices (order_id, seq);
CREATE INDEX invoices_due ON invoices (status, expires_at);

CREATE TABLE invoice_refunds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    parent_id TEXT NOT NULL,
    site TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    merchant_order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    vat_amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (merchant_id, merchant_order_id)
);
CREATE INDEX invoice_refunds_parent ON invoice_refunds (parent_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_token TEXT,
    lease_until BIGINT,
    delivered_at BIGINT,
    gave_up_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
