-- Issue 9: revisions of what showing an order reads, so that a server can keep an order it has shown
-- and know, from one narrow read, whether it may show it again unchanged. `orders.rev` moves with
-- any change to the order's row, its lines or its payments; `customers.rev` with any change to the
-- customer's row. Triggers move them, so every writer (this server, another instance, the CLI, a
-- migration) is seen; nobody writes `rev` by hand.
ALTER TABLE orders ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION torg_next_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rev := OLD.rev + 1;
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_rev BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION torg_next_rev();
CREATE TRIGGER customers_rev BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION torg_next_rev();

-- A line or payment written moves its order's revision, unless this transaction wrote the order's
-- row already (its new revision then covers the change: a reader sees the old row with the old
-- lines, or the new row with the new ones). That spares a create one more version of its new order
-- row per line and payment.
CREATE FUNCTION torg_order_part_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE orders SET rev = rev + 1 WHERE id = OLD.order_id AND xmin <> pg_current_xact_id()::xid;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.order_id IS DISTINCT FROM OLD.order_id) THEN
        UPDATE orders SET rev = rev + 1 WHERE id = NEW.order_id AND xmin <> pg_current_xact_id()::xid;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER order_items_rev AFTER INSERT OR UPDATE OR DELETE ON order_items
    FOR EACH ROW EXECUTE FUNCTION torg_order_part_rev();
CREATE TRIGGER payments_rev AFTER INSERT OR UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION torg_order_part_rev();
