-- Issue 9: counts without scans for the billing face's lists. Invoicebox's lists of invoices, refunds
-- and shipments answer an exact totalCount; unfiltered (the key's sites alone), that counted every
-- row of those sites on each page, which the plan audit (`plans_seen`) shows as a read of the whole
-- table. Their counters live in `row_counts` by site, kept in the writing transaction as the orders'
-- are (migration 0007). A list's page reads its sites' rows in key order through `(site, key)`.
INSERT INTO row_counts (entity, site, shard, n) SELECT 'invoices', site, 0, COUNT(*) FROM invoices GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'invoice_refunds', site, 0, COUNT(*) FROM invoice_refunds GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'invoice_shipments', site, 0, COUNT(*) FROM invoice_shipments GROUP BY site;

CREATE INDEX invoices_site ON invoices (site, seq);
CREATE TRIGGER invoices_count_insert AFTER INSERT ON invoices BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('invoices', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invoices_count_delete AFTER DELETE ON invoices BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'invoices' AND site = OLD.site AND shard = 0;
END;
CREATE TRIGGER invoices_count_move AFTER UPDATE OF site ON invoices WHEN OLD.site <> NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'invoices' AND site = OLD.site AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('invoices', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE INDEX invoice_refunds_site ON invoice_refunds (site, seq);
CREATE TRIGGER invoice_refunds_count_insert AFTER INSERT ON invoice_refunds BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('invoice_refunds', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invoice_refunds_count_delete AFTER DELETE ON invoice_refunds BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'invoice_refunds' AND site = OLD.site AND shard = 0;
END;
CREATE TRIGGER invoice_refunds_count_move AFTER UPDATE OF site ON invoice_refunds WHEN OLD.site <> NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'invoice_refunds' AND site = OLD.site AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('invoice_refunds', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE INDEX invoice_shipments_site ON invoice_shipments (site, id);
CREATE TRIGGER invoice_shipments_count_insert AFTER INSERT ON invoice_shipments BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('invoice_shipments', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER invoice_shipments_count_delete AFTER DELETE ON invoice_shipments BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'invoice_shipments' AND site = OLD.site AND shard = 0;
END;
CREATE TRIGGER invoice_shipments_count_move AFTER UPDATE OF site ON invoice_shipments WHEN OLD.site <> NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'invoice_shipments' AND site = OLD.site AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('invoice_shipments', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
