-- Issue 9: counts without scans for the billing face's lists. Invoicebox's lists of invoices, refunds
-- and shipments answer an exact totalCount; unfiltered (the key's sites alone), that counted every
-- row of those sites on each page, which the plan audit (`plans_seen`) shows as a read of the whole
-- table. Their counters live in `row_counts` by site, kept in the writing transaction by the orders'
-- row trigger (`torg_count_rows`, migration 0007: 16 shards a site). A list's page reads its sites'
-- rows in key order through `(site, key)`.
INSERT INTO row_counts (entity, site, shard, n) SELECT 'invoices', site, 0, COUNT(*) FROM invoices GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'invoice_refunds', site, 0, COUNT(*) FROM invoice_refunds GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'invoice_shipments', site, 0, COUNT(*) FROM invoice_shipments GROUP BY site;

CREATE INDEX invoices_site ON invoices (site, seq);
CREATE TRIGGER invoices_count_insert_delete AFTER INSERT OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER invoices_count_move AFTER UPDATE OF site ON invoices
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
CREATE INDEX invoice_refunds_site ON invoice_refunds (site, seq);
CREATE TRIGGER invoice_refunds_count_insert_delete AFTER INSERT OR DELETE ON invoice_refunds
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER invoice_refunds_count_move AFTER UPDATE OF site ON invoice_refunds
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
CREATE INDEX invoice_shipments_site ON invoice_shipments (site, id);
CREATE TRIGGER invoice_shipments_count_insert_delete AFTER INSERT OR DELETE ON invoice_shipments
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER invoice_shipments_count_move AFTER UPDATE OF site ON invoice_shipments
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
