-- Issue 9: the order and customer counters (migration 0007) spread each site's count over 64 shards
-- instead of 16. A writer's shard is its backend's process id modulo the shard count, and two writers
-- on one shard queue on its row until the first commits: under concurrent creates PostgreSQL showed
-- `INSERT INTO orders` waiting on `Lock:transactionid`, its counter row held by another transaction.
-- With 16 pooled connections per instance, 16 shards leave about seven pairs of backends sharing one
-- by the luck of their process ids; 64 leave about two. Readers sum every shard of a site, so the
-- rows already written stay valid.
CREATE OR REPLACE FUNCTION torg_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slot BIGINT := pg_backend_pid() % 64;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, OLD.site, slot, -1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n - 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO row_counts (entity, site, shard, n) VALUES (TG_TABLE_NAME, NEW.site, slot, 1)
            ON CONFLICT (entity, site, shard) DO UPDATE SET n = row_counts.n + 1;
    END IF;
    RETURN NULL;
END
$$;
