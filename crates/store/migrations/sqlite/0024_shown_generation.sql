-- Issue 9: one generation of everything a page of orders is read from (which orders a filter
-- matches, how many, and their stamps), so that a server can keep a page's ids, stamps and count and
-- know from one read of one row whether it may use them again. Any insert, update or delete in these
-- tables moves it, by trigger, so every writer (this server, another instance, the CLI) is seen.
--
-- An order's or customer's own revision update (migration 0023's triggers) is not a change of its
-- own: the write that caused it moved the generation already.
CREATE TABLE shown_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    gen BIGINT NOT NULL
);
INSERT INTO shown_generation (id, gen) VALUES (1, 0);

CREATE TRIGGER orders_gen_insert AFTER INSERT ON orders BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER orders_gen_update AFTER UPDATE ON orders WHEN NEW.rev = OLD.rev BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER orders_gen_delete AFTER DELETE ON orders BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER customers_gen_insert AFTER INSERT ON customers BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER customers_gen_update AFTER UPDATE ON customers WHEN NEW.rev = OLD.rev BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER customers_gen_delete AFTER DELETE ON customers BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_items_gen_insert AFTER INSERT ON order_items BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_items_gen_update AFTER UPDATE ON order_items BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_items_gen_delete AFTER DELETE ON order_items BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER payments_gen_insert AFTER INSERT ON payments BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER payments_gen_update AFTER UPDATE ON payments BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER payments_gen_delete AFTER DELETE ON payments BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_facets_gen_insert AFTER INSERT ON order_facets BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_facets_gen_update AFTER UPDATE ON order_facets BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_facets_gen_delete AFTER DELETE ON order_facets BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER costs_gen_insert AFTER INSERT ON costs BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER costs_gen_update AFTER UPDATE ON costs BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER costs_gen_delete AFTER DELETE ON costs BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER corporate_customers_gen_insert AFTER INSERT ON corporate_customers BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER corporate_customers_gen_update AFTER UPDATE ON corporate_customers BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER corporate_customers_gen_delete AFTER DELETE ON corporate_customers BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER file_attachments_gen_insert AFTER INSERT ON file_attachments BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER file_attachments_gen_update AFTER UPDATE ON file_attachments BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER file_attachments_gen_delete AFTER DELETE ON file_attachments BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_custom_fields_gen_insert AFTER INSERT ON order_custom_fields BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_custom_fields_gen_update AFTER UPDATE ON order_custom_fields BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER order_custom_fields_gen_delete AFTER DELETE ON order_custom_fields BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER bonus_operations_gen_insert AFTER INSERT ON bonus_operations BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER bonus_operations_gen_update AFTER UPDATE ON bonus_operations BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER bonus_operations_gen_delete AFTER DELETE ON bonus_operations BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER loyalties_gen_insert AFTER INSERT ON loyalties BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER loyalties_gen_update AFTER UPDATE ON loyalties BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
CREATE TRIGGER loyalties_gen_delete AFTER DELETE ON loyalties BEGIN
    UPDATE shown_generation SET gen = gen + 1;
END;
