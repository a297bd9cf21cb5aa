-- Orders and customers combined into others (orders/combine, customers/combine): a lookup of one of
-- them by its old id or external id is answered with the entity it went into (`combinedTo`).
CREATE TABLE combined_entities (
    entity TEXT NOT NULL,
    site TEXT NOT NULL,
    old_id BIGINT NOT NULL,
    old_external_id TEXT,
    into_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX combined_entities_id ON combined_entities (entity, old_id);
CREATE INDEX combined_entities_external ON combined_entities (entity, site, old_external_id);
CREATE INDEX combined_entities_into ON combined_entities (entity, into_id);
