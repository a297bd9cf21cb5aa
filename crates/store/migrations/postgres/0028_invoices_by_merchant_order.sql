-- Issue 9: a CRM payment's invoices are those whose merchant order id begins `crm-payment-<id>-`.
-- They were found by `LIKE`, which read every invoice (the unique index leads with the merchant); a
-- range over this index finds them. In byte order (`COLLATE "C"`), whatever the database's collation,
-- so that the range holds exactly the ids the prefix begins.
CREATE INDEX invoices_merchant_order ON invoices (merchant_order_id COLLATE "C");
