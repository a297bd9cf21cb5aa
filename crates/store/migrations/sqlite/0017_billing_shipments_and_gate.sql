-- Billing (issue 14): shipments of invoices (their id is a number, as Invoicebox's), the site an
-- outbox event belongs to (so the WebSocket gate can hand a key the events of its sites), and each
-- gate listener's place in the outbox (the last event it acknowledged), so a listener that
-- reconnects gets everything it was due since. Money in 1/10,000 units, instants in Unix seconds.
CREATE TABLE invoice_shipments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id TEXT NOT NULL,
    site TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    document_number TEXT,
    document_date TEXT,
    is_final BIGINT NOT NULL DEFAULT 0,
    amount BIGINT NOT NULL,
    vat_amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX invoice_shipments_invoice ON invoice_shipments (invoice_id, id);

ALTER TABLE outbox ADD COLUMN site TEXT;
CREATE INDEX outbox_site ON outbox (site, id);

CREATE TABLE gate_cursors (
    key_id BIGINT PRIMARY KEY,
    event_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
