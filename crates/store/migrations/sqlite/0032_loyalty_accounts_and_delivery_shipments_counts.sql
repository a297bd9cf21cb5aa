-- Issue 9: counts without scans for the last two CRM lists whose unfiltered totals counted rows: the
-- loyalty accounts (one a customer and programme, so as many as the customers) and the delivery
-- shipments. Each page of either counted every row of the key's sites (of every site for shipments,
-- which have none of their own). Accounts are counted in `row_counts` by site, shipments under site
-- '' as the catalogue is, kept in the writing transaction.
INSERT INTO row_counts (entity, site, shard, n) SELECT 'loyalty_accounts', site, 0, COUNT(*) FROM loyalty_accounts GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'delivery_shipments', '', 0, COUNT(*) FROM delivery_shipments;

CREATE TRIGGER loyalty_accounts_count_insert AFTER INSERT ON loyalty_accounts BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('loyalty_accounts', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER loyalty_accounts_count_delete AFTER DELETE ON loyalty_accounts BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'loyalty_accounts' AND site = OLD.site AND shard = 0;
END;
CREATE TRIGGER loyalty_accounts_count_move AFTER UPDATE OF site ON loyalty_accounts WHEN OLD.site IS NOT NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'loyalty_accounts' AND site = OLD.site AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('loyalty_accounts', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER delivery_shipments_count_insert AFTER INSERT ON delivery_shipments BEGIN
    UPDATE row_counts SET n = n + 1 WHERE entity = 'delivery_shipments' AND site = '' AND shard = 0;
END;
CREATE TRIGGER delivery_shipments_count_delete AFTER DELETE ON delivery_shipments BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'delivery_shipments' AND site = '' AND shard = 0;
END;
