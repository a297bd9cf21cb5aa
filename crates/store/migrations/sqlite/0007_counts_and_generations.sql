-- Issue 9: counts without scans, and a generation for the in-process cache of the small books.
--
-- row_counts: how many orders and customers each site has, kept by triggers in the writing transaction
-- (whoever writes: the server, the CLI, an import), so a list filtered by sites alone answers its
-- totalCount from a few rows instead of counting 100,000. PostgreSQL spreads a site's count over a few
-- shards so that concurrent writers do not queue on one row; SQLite has one writer and uses shard 0.
CREATE TABLE row_counts (
    entity TEXT NOT NULL,
    site TEXT NOT NULL,
    shard BIGINT NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (entity, site, shard)
);
INSERT INTO row_counts (entity, site, shard, n) SELECT 'orders', site, 0, COUNT(*) FROM orders GROUP BY site;
INSERT INTO row_counts (entity, site, shard, n) SELECT 'customers', site, 0, COUNT(*) FROM customers GROUP BY site;

CREATE TRIGGER orders_count_insert AFTER INSERT ON orders BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('orders', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER orders_count_delete AFTER DELETE ON orders BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'orders' AND site = OLD.site AND shard = 0;
END;
CREATE TRIGGER orders_count_move AFTER UPDATE OF site ON orders WHEN OLD.site <> NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'orders' AND site = OLD.site AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('orders', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER customers_count_insert AFTER INSERT ON customers BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('customers', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'customers' AND site = OLD.site AND shard = 0;
END;
CREATE TRIGGER customers_count_move AFTER UPDATE OF site ON customers WHEN OLD.site <> NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'customers' AND site = OLD.site AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('customers', NEW.site, 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;

-- cache_generations: bumped by any change to the books a server caches in memory (sites, warehouses,
-- reference books). A server compares the number with its cached copy's, in the same statement as the
-- key check, and reloads when another writer (another instance, the CLI) changed them.
CREATE TABLE cache_generations (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO cache_generations (name, n) VALUES ('books', 1);

CREATE TRIGGER sites_books_insert AFTER INSERT ON sites BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER sites_books_update AFTER UPDATE ON sites BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER sites_books_delete AFTER DELETE ON sites BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER warehouses_books_insert AFTER INSERT ON warehouses BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER warehouses_books_update AFTER UPDATE ON warehouses BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER warehouses_books_delete AFTER DELETE ON warehouses BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER reference_entries_books_insert AFTER INSERT ON reference_entries BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER reference_entries_books_update AFTER UPDATE ON reference_entries BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER reference_entries_books_delete AFTER DELETE ON reference_entries BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
