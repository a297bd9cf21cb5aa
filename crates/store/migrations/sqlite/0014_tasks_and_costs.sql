-- Tasks (`tasks`) and costs (`costs`) of the CRM face.
--
-- A task is for a user (or a user group) to do by `due` (its `datetime`: 'Y-m-d H:i', a wall-clock
-- time in the configured zone, kept as written), optionally about one order or one customer. `site` is
-- the site of what it is about (the order's, the customer's, else `phone_site`): a key sees tasks on its
-- sites and tasks about nothing. `search` is the lower-cased text and commentary the `text` filter compares.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    commentary TEXT,
    due TEXT,
    complete BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    updated_at BIGINT NOT NULL,
    creator_id BIGINT,
    performer_id BIGINT NOT NULL,
    performer_type TEXT NOT NULL DEFAULT 'user',
    order_id BIGINT REFERENCES orders (id),
    customer_id BIGINT REFERENCES customers (id),
    phone TEXT,
    phone_site TEXT,
    site TEXT,
    search TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_performer ON tasks (performer_id);
CREATE INDEX tasks_order ON tasks (order_id);
CREATE INDEX tasks_customer ON tasks (customer_id);
CREATE INDEX tasks_due ON tasks (due);

CREATE TABLE task_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    creator_id BIGINT,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX task_comments_task ON task_comments (task_id, id);

-- Task history: a record's id is its number. Task writes run one at a time (one writer here; an
-- advisory lock on PostgreSQL), so ids follow commit order.
CREATE TABLE task_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks (id),
    created_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    api_key_id BIGINT,
    user_id BIGINT,
    created BIGINT NOT NULL DEFAULT 0,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    entity TEXT NOT NULL,
    comment TEXT
);
CREATE INDEX task_history_task ON task_history (task_id, id);
CREATE INDEX task_history_created ON task_history (created_at);

-- A cost: a sum of a cost item (reference book `cost_item`) over the calendar dates `date_from` to
-- `date_to` ('Y-m-d'), optionally of an order or a user; `summ` in 1/10,000 units. It belongs to one
-- site or more (`cost_sites`); a key sees costs with a site it reaches.
CREATE TABLE costs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    summ BIGINT NOT NULL,
    cost_item TEXT NOT NULL,
    comment TEXT,
    comment_lower TEXT,
    order_id BIGINT REFERENCES orders (id),
    user_id BIGINT REFERENCES users (id),
    source TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    created_by BIGINT
);
CREATE INDEX costs_order ON costs (order_id);
CREATE INDEX costs_dates ON costs (date_from, date_to);
CREATE INDEX costs_item ON costs (cost_item);

CREATE TABLE cost_sites (
    cost_id BIGINT NOT NULL REFERENCES costs (id),
    site TEXT NOT NULL,
    PRIMARY KEY (cost_id, site)
);
CREATE INDEX cost_sites_site ON cost_sites (site, cost_id);
