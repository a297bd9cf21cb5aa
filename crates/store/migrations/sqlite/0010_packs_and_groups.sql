-- Packs (orders/packs): part of an order line's quantity taken from one warehouse's stock.
--
-- The stock a pack takes is kept by triggers, whoever writes (a pack write, an order edit that changes
-- reservations or removes a packed line). For a group of packs of one order, offer and warehouse, with P
-- whole units packed (fractions are not counted, as reservations do not hold them) and R units that the
-- order's reservation holds there, the stock row carries
--   available: P less (the units left the warehouse),
--   reserved:  min(P, R) less (packed units the reservation held are consumed, not counted twice).
-- So free stock (available - reserved) falls only by what the packs took beyond the reservation, and
-- when the reservation changes later (an order edit re-reserves its lines, a cancel releases them) the
-- packed part is settled again by the reservation triggers below.
CREATE TABLE packs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    item_id BIGINT NOT NULL REFERENCES order_items (id),
    offer_id BIGINT,
    warehouse_id BIGINT NOT NULL REFERENCES warehouses (id),
    quantity BIGINT NOT NULL,
    purchase_price BIGINT,
    shipment_date TEXT,
    invoice_number TEXT,
    delivery_note_number TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX packs_item ON packs (item_id);
CREATE INDEX packs_group ON packs (order_id, offer_id, warehouse_id);
CREATE INDEX packs_warehouse ON packs (warehouse_id);

-- BEFORE triggers: the group's sum read in them is the state just before this row's change, also when
-- one statement changes several packs of a group (a removed line's packs).
CREATE TRIGGER packs_stock_insert BEFORE INSERT ON packs WHEN NEW.offer_id IS NOT NULL BEGIN
    UPDATE stock SET (available, reserved) = (
        SELECT stock.available - ((g.s + NEW.quantity) / 10000 - g.s / 10000),
               stock.reserved - (MIN((g.s + NEW.quantity) / 10000, g.r) - MIN(g.s / 10000, g.r))
        FROM (SELECT
            (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
             WHERE p.order_id = NEW.order_id AND p.offer_id = NEW.offer_id AND p.warehouse_id = NEW.warehouse_id) AS s,
            (SELECT COALESCE(MAX(r.quantity), 0) FROM reservations r
             WHERE r.order_id = NEW.order_id AND r.offer_id = NEW.offer_id AND r.warehouse_id = NEW.warehouse_id) AS r) g)
    WHERE offer_id = NEW.offer_id AND warehouse_id = NEW.warehouse_id;
END;

CREATE TRIGGER packs_stock_delete BEFORE DELETE ON packs WHEN OLD.offer_id IS NOT NULL BEGIN
    UPDATE stock SET (available, reserved) = (
        SELECT stock.available - ((g.s - OLD.quantity) / 10000 - g.s / 10000),
               stock.reserved - (MIN((g.s - OLD.quantity) / 10000, g.r) - MIN(g.s / 10000, g.r))
        FROM (SELECT
            (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
             WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id) AS s,
            (SELECT COALESCE(MAX(r.quantity), 0) FROM reservations r
             WHERE r.order_id = OLD.order_id AND r.offer_id = OLD.offer_id AND r.warehouse_id = OLD.warehouse_id) AS r) g)
    WHERE offer_id = OLD.offer_id AND warehouse_id = OLD.warehouse_id;
END;

-- An edit within one group: from the sum with the old quantity to the sum with the new one.
CREATE TRIGGER packs_stock_update BEFORE UPDATE OF quantity, warehouse_id ON packs
WHEN OLD.offer_id IS NOT NULL AND OLD.warehouse_id = NEW.warehouse_id BEGIN
    UPDATE stock SET (available, reserved) = (
        SELECT stock.available - ((g.s - OLD.quantity + NEW.quantity) / 10000 - g.s / 10000),
               stock.reserved - (MIN((g.s - OLD.quantity + NEW.quantity) / 10000, g.r) - MIN(g.s / 10000, g.r))
        FROM (SELECT
            (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
             WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id) AS s,
            (SELECT COALESCE(MAX(r.quantity), 0) FROM reservations r
             WHERE r.order_id = OLD.order_id AND r.offer_id = OLD.offer_id AND r.warehouse_id = OLD.warehouse_id) AS r) g)
    WHERE offer_id = OLD.offer_id AND warehouse_id = OLD.warehouse_id;
END;

-- A pack moved to another warehouse: handed back to the old group, taken by the new one.
CREATE TRIGGER packs_stock_move BEFORE UPDATE OF quantity, warehouse_id ON packs
WHEN OLD.offer_id IS NOT NULL AND OLD.warehouse_id <> NEW.warehouse_id BEGIN
    UPDATE stock SET (available, reserved) = (
        SELECT stock.available - ((g.s - OLD.quantity) / 10000 - g.s / 10000),
               stock.reserved - (MIN((g.s - OLD.quantity) / 10000, g.r) - MIN(g.s / 10000, g.r))
        FROM (SELECT
            (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
             WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id) AS s,
            (SELECT COALESCE(MAX(r.quantity), 0) FROM reservations r
             WHERE r.order_id = OLD.order_id AND r.offer_id = OLD.offer_id AND r.warehouse_id = OLD.warehouse_id) AS r) g)
    WHERE offer_id = OLD.offer_id AND warehouse_id = OLD.warehouse_id;
    UPDATE stock SET (available, reserved) = (
        SELECT stock.available - ((g.s + NEW.quantity) / 10000 - g.s / 10000),
               stock.reserved - (MIN((g.s + NEW.quantity) / 10000, g.r) - MIN(g.s / 10000, g.r))
        FROM (SELECT
            (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
             WHERE p.order_id = NEW.order_id AND p.offer_id = NEW.offer_id AND p.warehouse_id = NEW.warehouse_id) AS s,
            (SELECT COALESCE(MAX(r.quantity), 0) FROM reservations r
             WHERE r.order_id = NEW.order_id AND r.offer_id = NEW.offer_id AND r.warehouse_id = NEW.warehouse_id) AS r) g)
    WHERE offer_id = NEW.offer_id AND warehouse_id = NEW.warehouse_id;
END;

-- A reservation written or released while packs of its group exist: the packed part it covers is
-- settled (sync_reservations rewrites an order's reservation rows on every order write).
CREATE TRIGGER reservations_packs_insert AFTER INSERT ON reservations
WHEN EXISTS (SELECT 1 FROM packs p WHERE p.order_id = NEW.order_id AND p.offer_id = NEW.offer_id AND p.warehouse_id = NEW.warehouse_id) BEGIN
    UPDATE stock SET reserved = reserved - MIN(
        (SELECT SUM(p.quantity) FROM packs p
         WHERE p.order_id = NEW.order_id AND p.offer_id = NEW.offer_id AND p.warehouse_id = NEW.warehouse_id) / 10000,
        NEW.quantity)
    WHERE offer_id = NEW.offer_id AND warehouse_id = NEW.warehouse_id;
END;

CREATE TRIGGER reservations_packs_delete AFTER DELETE ON reservations
WHEN EXISTS (SELECT 1 FROM packs p WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id) BEGIN
    UPDATE stock SET reserved = reserved + MIN(
        (SELECT SUM(p.quantity) FROM packs p
         WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id) / 10000,
        OLD.quantity)
    WHERE offer_id = OLD.offer_id AND warehouse_id = OLD.warehouse_id;
END;

CREATE TRIGGER reservations_packs_update AFTER UPDATE ON reservations BEGIN
    UPDATE stock SET reserved = reserved + MIN(
        (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
         WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id) / 10000,
        OLD.quantity)
    WHERE offer_id = OLD.offer_id AND warehouse_id = OLD.warehouse_id
      AND EXISTS (SELECT 1 FROM packs p WHERE p.order_id = OLD.order_id AND p.offer_id = OLD.offer_id AND p.warehouse_id = OLD.warehouse_id);
    UPDATE stock SET reserved = reserved - MIN(
        (SELECT COALESCE(SUM(p.quantity), 0) FROM packs p
         WHERE p.order_id = NEW.order_id AND p.offer_id = NEW.offer_id AND p.warehouse_id = NEW.warehouse_id) / 10000,
        NEW.quantity)
    WHERE offer_id = NEW.offer_id AND warehouse_id = NEW.warehouse_id
      AND EXISTS (SELECT 1 FROM packs p WHERE p.order_id = NEW.order_id AND p.offer_id = NEW.offer_id AND p.warehouse_id = NEW.warehouse_id);
END;

-- An order edit that removes a line removes its packs, handing their stock back.
CREATE TRIGGER order_items_packs BEFORE DELETE ON order_items BEGIN
    DELETE FROM packs WHERE item_id = OLD.id;
END;

-- Pack history, numbered as written (one writer), like order history since migration 0008.
CREATE TABLE pack_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq BIGINT,
    pack_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    api_key_id BIGINT,
    user_id BIGINT,
    created BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    entity TEXT NOT NULL
);
CREATE UNIQUE INDEX pack_history_seq ON pack_history (seq);
CREATE INDEX pack_history_order ON pack_history (order_id, seq);
CREATE INDEX pack_history_created ON pack_history (created_at);

-- Product groups (store/product-groups): a tree per site; `lvl` is the depth (top level 1), kept by
-- the writer when a group moves.
CREATE TABLE product_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    external_id TEXT,
    parent_id BIGINT REFERENCES product_groups (id),
    name TEXT NOT NULL,
    description TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    ordering BIGINT,
    lvl BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX product_groups_external ON product_groups (site, external_id);
CREATE INDEX product_groups_parent ON product_groups (parent_id);

-- Product properties are read from the `properties` member of offers' and products' attributes; these
-- partial indexes keep that read to the rows that carry any.
CREATE INDEX offers_with_properties ON offers (id) WHERE attrs LIKE '%"properties"%';
CREATE INDEX products_with_properties ON products (id) WHERE attrs LIKE '%"properties"%';
