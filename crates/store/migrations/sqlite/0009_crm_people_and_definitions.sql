-- Users as RetailCRM lists them and their groups; integration modules; custom field definitions and
-- their dictionaries (cached with the books, so the same triggers bump the generation); customer
-- notes; and stable ids for reference entries (currencies and couriers are edited by id).

ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN position TEXT;
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'free';
ALTER TABLE users ADD COLUMN online BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_admin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN is_manager BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE user_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_manager BIGINT NOT NULL DEFAULT 0,
    is_delivery_men BIGINT NOT NULL DEFAULT 0,
    attrs TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE user_group_members (
    user_id BIGINT NOT NULL REFERENCES users (id),
    group_id BIGINT NOT NULL REFERENCES user_groups (id),
    PRIMARY KEY (user_id, group_id)
);

CREATE TABLE integration_modules (
    code TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    key_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE custom_fields (
    entity TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    dictionary TEXT,
    ordering BIGINT NOT NULL DEFAULT 50,
    doc TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (entity, code)
);

CREATE TABLE custom_dictionaries (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    elements TEXT NOT NULL DEFAULT '[]'
);

CREATE TRIGGER custom_fields_books_insert AFTER INSERT ON custom_fields BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER custom_fields_books_update AFTER UPDATE ON custom_fields BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER custom_fields_books_delete AFTER DELETE ON custom_fields BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER custom_dictionaries_books_insert AFTER INSERT ON custom_dictionaries BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER custom_dictionaries_books_update AFTER UPDATE ON custom_dictionaries BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;
CREATE TRIGGER custom_dictionaries_books_delete AFTER DELETE ON custom_dictionaries BEGIN
    UPDATE cache_generations SET n = n + 1 WHERE name = 'books';
END;

CREATE TABLE customer_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    manager_id BIGINT,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes (customer_id);

ALTER TABLE reference_entries ADD COLUMN id BIGINT;
UPDATE reference_entries SET id = (
    SELECT COUNT(*) FROM reference_entries r
    WHERE r.kind < reference_entries.kind OR (r.kind = reference_entries.kind AND r.code <= reference_entries.code)
);
CREATE UNIQUE INDEX reference_entries_id ON reference_entries (id);
