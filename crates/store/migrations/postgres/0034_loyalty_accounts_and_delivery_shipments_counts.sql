-- Issue 9: counts without scans for the last two CRM lists whose unfiltered totals counted rows: the
-- loyalty accounts (one a customer and programme, so as many as the customers) and the delivery
-- shipments. Each page of either counted every row of the key's sites (of every site for shipments,
-- which have none of their own). Accounts are counted in `row_counts` by site through the row
-- trigger, shipments under site '' through the catalogue's statement triggers, kept in the writing
-- transaction.
--
-- The counting functions also go back to 64 shards a site: migration 0033 redefined the row trigger
-- with the 16 shards of migration 0007, undoing 0022 (two writers on one shard queue on its row until
-- the first commits), and the catalogue's statement triggers (0030) had 16 too. Readers sum every
-- shard, so the rows already written stay valid.
CREATE OR REPLACE FUNCTION torg_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slot BIGINT := pg_backend_pid() % 64;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, COALESCE(OLD.site, ''), slot, -1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, COALESCE(NEW.site, ''), slot, 1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION torg_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (entity, site, shard, n)
        SELECT TG_TABLE_NAME, '', pg_backend_pid() % 64, COUNT(*) FROM inserted HAVING COUNT(*) > 0
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION torg_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (entity, site, shard, n)
        SELECT TG_TABLE_NAME, '', pg_backend_pid() % 64, -COUNT(*) FROM deleted HAVING COUNT(*) > 0
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

INSERT INTO row_counts (entity, site, shard, n) SELECT 'loyalty_accounts', site, 0, COUNT(*) FROM loyalty_accounts GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'delivery_shipments', '', 0, COUNT(*) FROM delivery_shipments HAVING COUNT(*) > 0;

CREATE TRIGGER loyalty_accounts_count_insert_delete AFTER INSERT OR DELETE ON loyalty_accounts
    FOR EACH ROW EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER loyalty_accounts_count_move AFTER UPDATE OF site ON loyalty_accounts
    FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site) EXECUTE FUNCTION torg_count_rows();
CREATE TRIGGER delivery_shipments_count_insert AFTER INSERT ON delivery_shipments
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION torg_count_inserted();
CREATE TRIGGER delivery_shipments_count_delete AFTER DELETE ON delivery_shipments
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION torg_count_deleted();
