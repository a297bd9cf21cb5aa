-- Issue 9: an order's lines are read in their order straight from this index (order, then position,
-- then id, which is the row id every index entry ends with), so reading orders no longer sorts them
-- in a temporary b-tree. It serves everything `order_items_order` served (lookups and the foreign
-- key's checks by order), which it replaces.
CREATE INDEX order_items_order_position ON order_items (order_id, position);
DROP INDEX order_items_order;
