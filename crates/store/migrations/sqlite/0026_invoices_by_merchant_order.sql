-- Issue 9: a CRM payment's invoices are those whose merchant order id begins `crm-payment-<id>-`.
-- They were found by `LIKE`, which SQLite runs over every invoice (its LIKE ignores case, so no index
-- serves it); a range over this index finds them (the column's collation is BINARY, byte order).
CREATE INDEX invoices_merchant_order ON invoices (merchant_order_id);
