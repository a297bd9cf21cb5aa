-- Issue 9: revisions of what showing an order reads, so that a server can keep an order it has shown
-- and know, from one narrow read, whether it may show it again unchanged. `orders.rev` moves with
-- any change to the order's row, its lines or its payments; `customers.rev` with any change to the
-- customer's row. Triggers move them, so every writer (this server, another instance, the CLI, a
-- migration) is seen; nobody writes `rev` by hand.
--
-- SQLite's triggers cannot edit the row being written, so an order's own update is followed by one
-- more of its `rev` (the WHEN clause keeps that second update from starting a third).
ALTER TABLE orders ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER orders_rev AFTER UPDATE ON orders WHEN NEW.rev = OLD.rev BEGIN
    UPDATE orders SET rev = OLD.rev + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER customers_rev AFTER UPDATE ON customers WHEN NEW.rev = OLD.rev BEGIN
    UPDATE customers SET rev = OLD.rev + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER order_items_rev_insert AFTER INSERT ON order_items BEGIN
    UPDATE orders SET rev = rev + 1 WHERE id = NEW.order_id;
END;
CREATE TRIGGER order_items_rev_update AFTER UPDATE ON order_items BEGIN
    UPDATE orders SET rev = rev + 1 WHERE id IN (OLD.order_id, NEW.order_id);
END;
CREATE TRIGGER order_items_rev_delete AFTER DELETE ON order_items BEGIN
    UPDATE orders SET rev = rev + 1 WHERE id = OLD.order_id;
END;
CREATE TRIGGER payments_rev_insert AFTER INSERT ON payments BEGIN
    UPDATE orders SET rev = rev + 1 WHERE id = NEW.order_id;
END;
CREATE TRIGGER payments_rev_update AFTER UPDATE ON payments BEGIN
    UPDATE orders SET rev = rev + 1 WHERE id IN (OLD.order_id, NEW.order_id);
END;
CREATE TRIGGER payments_rev_delete AFTER DELETE ON payments BEGIN
    UPDATE orders SET rev = rev + 1 WHERE id = OLD.order_id;
END;
