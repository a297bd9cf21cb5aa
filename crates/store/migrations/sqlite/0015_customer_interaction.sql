-- Customer interaction (customer-interaction/{site}/cart, …/favorites): a customer's shop cart as the
-- store module reports it, and the offers the customer marked as favourites.
CREATE TABLE carts (
    customer_id BIGINT PRIMARY KEY REFERENCES customers (id),
    site TEXT NOT NULL,
    external_id TEXT,
    currency TEXT,
    link TEXT,
    dropped_at BIGINT,
    cleared_at BIGINT,
    order_id BIGINT,
    items TEXT NOT NULL DEFAULT '[]',
    updated_at BIGINT NOT NULL
);

CREATE TABLE favorites (
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    offer_id BIGINT NOT NULL REFERENCES offers (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, offer_id)
);
