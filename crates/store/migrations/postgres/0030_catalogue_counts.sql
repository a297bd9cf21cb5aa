-- Issue 9: counts without scans for the catalogue too. The CRM's product and offer lists answer an
-- exact totalCount; unfiltered, that counted every product (or every offer, joined to its product)
-- on each page. The counters live in `row_counts` (site '', the catalogue is shared by every site),
-- kept in the writing transaction. Statement triggers over the transition tables, so that an import's
-- batch of rows moves a counter once, on a shard of its own per connection as `torg_count_rows` does.
-- An offer always has its product (a foreign key, NOT NULL), so counting offers counts the joined rows.
INSERT INTO row_counts (entity, site, shard, n) SELECT 'products', '', 0, COUNT(*) FROM products;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'offers', '', 0, COUNT(*) FROM offers;

CREATE FUNCTION torg_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (entity, site, shard, n)
        SELECT TG_TABLE_NAME, '', pg_backend_pid() % 16, COUNT(*) FROM inserted HAVING COUNT(*) > 0
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION torg_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (entity, site, shard, n)
        SELECT TG_TABLE_NAME, '', pg_backend_pid() % 16, -COUNT(*) FROM deleted HAVING COUNT(*) > 0
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER products_count_insert AFTER INSERT ON products
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION torg_count_inserted();
CREATE TRIGGER products_count_delete AFTER DELETE ON products
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION torg_count_deleted();
CREATE TRIGGER offers_count_insert AFTER INSERT ON offers
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION torg_count_inserted();
CREATE TRIGGER offers_count_delete AFTER DELETE ON offers
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION torg_count_deleted();
