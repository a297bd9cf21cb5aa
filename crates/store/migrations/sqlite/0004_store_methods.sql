-- The CRM store methods (crm-v5.md §2.3). Name filters match case-insensitively in any script, but
-- SQLite's LOWER() folds only ASCII, so names are compared through copies lower-cased in Rust:
-- `name_lower` holds the copy and `name_lower_of` the name it was made from. A row whose name changed
-- since (or that was written by code that does not keep the copy) has `name_lower_of <> name` and is
-- refreshed before a name filter runs. Offer articles and external ids of products are looked up by the
-- inventories and products filters.
ALTER TABLE products ADD COLUMN name_lower TEXT;
ALTER TABLE products ADD COLUMN name_lower_of TEXT;
ALTER TABLE offers ADD COLUMN name_lower TEXT;
ALTER TABLE offers ADD COLUMN name_lower_of TEXT;
CREATE INDEX offers_article ON offers (article);
CREATE INDEX products_article ON products (article);
