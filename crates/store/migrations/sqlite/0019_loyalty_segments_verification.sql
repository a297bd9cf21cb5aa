-- Loyalty programmes (`loyalty/*`), customer segments (`segments`) and SMS verifications
-- (`verification/sms/*`) of the CRM face.
--
-- A programme belongs to one site; its levels are reached by the sum of the account's paid orders
-- (`threshold`) and credit `privilege_size` percent of a paid order. Money and bonuses are 1/10,000 units.
-- `expiry_days` (none: never) is how long credited bonuses live; `max_charge_percent` the share of an
-- order bonuses may pay.
CREATE TABLE loyalties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    blocked BIGINT NOT NULL DEFAULT 0,
    expiry_days BIGINT,
    max_charge_percent BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT
);
CREATE INDEX loyalties_site ON loyalties (site);

CREATE TABLE loyalty_levels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    loyalty_id BIGINT NOT NULL REFERENCES loyalties (id),
    name TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    privilege_size BIGINT NOT NULL
);
CREATE INDEX loyalty_levels_loyalty ON loyalty_levels (loyalty_id, threshold);

-- One account per customer and programme. `orders_sum` is the sum of its paid orders, which picks
-- the level; the balance is never stored: it is the remainder of the credited lots alive at the time
-- of reading (see bonus_operations).
CREATE TABLE loyalty_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    loyalty_id BIGINT NOT NULL REFERENCES loyalties (id),
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    site TEXT NOT NULL,
    phone_number TEXT,
    card_number TEXT,
    custom_fields TEXT NOT NULL DEFAULT '{}',
    active BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    orders_sum BIGINT NOT NULL DEFAULT 0,
    UNIQUE (loyalty_id, customer_id)
);
CREATE INDEX loyalty_accounts_customer ON loyalty_accounts (customer_id);

-- Every movement of bonuses. A credit (credit_manual, credit_for_order, cancel_of_charge) is a lot
-- alive from `activation_at` to `expire_at` (none: forever) whose `remaining` charges consume, the
-- lot that expires first first. `amount` is always positive. `base` is the paid sum an order's credit
-- added to the account's orders_sum; `reversed_by` marks an operation cancelled by another.
CREATE TABLE bonus_operations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES loyalty_accounts (id),
    loyalty_id BIGINT NOT NULL REFERENCES loyalties (id),
    type TEXT NOT NULL,
    amount BIGINT NOT NULL,
    remaining BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    activation_at BIGINT,
    expire_at BIGINT,
    order_id BIGINT REFERENCES orders (id),
    base BIGINT NOT NULL DEFAULT 0,
    comment TEXT,
    reversed_by BIGINT
);
CREATE INDEX bonus_operations_account ON bonus_operations (account_id, id);
CREATE INDEX bonus_operations_order ON bonus_operations (order_id);

-- A segment is a named customer list filter (the customer list's own filter members, as JSON).
CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_dynamic BIGINT NOT NULL DEFAULT 1,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    filter TEXT NOT NULL DEFAULT '{}'
);

-- SMS codes sent for confirmation; `check_id` is what the API names a check by.
CREATE TABLE sms_verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL,
    action_type TEXT NOT NULL,
    code TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expired_at BIGINT NOT NULL,
    verified_at BIGINT
);
