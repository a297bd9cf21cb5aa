-- Issue 9: a generation of the API keys, moved by any change to them, by whoever makes it (this
-- server, another instance, the CLI, plain SQL). A server on PostgreSQL reads it, with the books' and
-- the orders' generations, in one statement shared by the requests in flight, and reads a key's row
-- again only when it has moved: a key revoked or changed anywhere is seen by the next request.
-- Row triggers, so that an update matching no key (a customer merge re-pointing the keys of a
-- customer that has none) neither moves it nor locks its row until the commit.
INSERT INTO cache_generations (name, n) VALUES ('keys', 1);

CREATE FUNCTION torg_bump_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'keys';
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_generation AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION torg_bump_keys();
CREATE TRIGGER api_keys_generation_truncate AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION torg_bump_keys();
