-- Web analytics visits (web-analytics/visits/upload) and notifications sent to users
-- (notifications/send).
CREATE TABLE web_visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT,
    client_id TEXT NOT NULL,
    customer_id BIGINT,
    created_at BIGINT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX web_visits_client ON web_visits (client_id);
CREATE INDEX web_visits_customer ON web_visits (customer_id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
