-- Issue 9: counts without scans for the CRM's tasks and files lists. Unfiltered (the key's sites
-- alone, and the rows of no site, which every key sees), each page counted every task or file, which
-- the plan audit (`plans_seen`) shows as a read of the whole table. Their counters live in
-- `row_counts` by site, a row of no site under site '' (no site has an empty code), kept in the
-- writing transaction as the orders' are.
INSERT INTO row_counts (entity, site, shard, n) SELECT 'tasks', COALESCE(site, ''), 0, COUNT(*) FROM tasks GROUP BY COALESCE(site, '');
INSERT INTO row_counts (entity, site, shard, n) SELECT 'files', COALESCE(site, ''), 0, COUNT(*) FROM files GROUP BY COALESCE(site, '');

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('tasks', COALESCE(NEW.site, ''), 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'tasks' AND site = COALESCE(OLD.site, '') AND shard = 0;
END;
CREATE TRIGGER tasks_count_move AFTER UPDATE OF site ON tasks WHEN OLD.site IS NOT NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'tasks' AND site = COALESCE(OLD.site, '') AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('tasks', COALESCE(NEW.site, ''), 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER files_count_insert AFTER INSERT ON files BEGIN
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('files', COALESCE(NEW.site, ''), 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER files_count_delete AFTER DELETE ON files BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'files' AND site = COALESCE(OLD.site, '') AND shard = 0;
END;
CREATE TRIGGER files_count_move AFTER UPDATE OF site ON files WHEN OLD.site IS NOT NEW.site BEGIN
    UPDATE row_counts SET n = n - 1 WHERE entity = 'files' AND site = COALESCE(OLD.site, '') AND shard = 0;
    INSERT INTO row_counts (entity, site, shard, n) VALUES ('files', COALESCE(NEW.site, ''), 0, 1)
        ON CONFLICT (entity, site, shard) DO UPDATE SET n = n + 1;
END;
