-- Segments and marketing lists (DOMAIN §5, §7): definitions, dated snapshots of static lists,
-- the scores that score conditions read, and the indexes the segment queries use.

CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('dynamic', 'static')),
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE segment_snapshots (
    id INTEGER PRIMARY KEY,
    segment_id BIGINT NOT NULL REFERENCES segments (id),
    taken_at TEXT NOT NULL,
    member_count BIGINT NOT NULL
);
CREATE INDEX segment_snapshots_segment ON segment_snapshots (segment_id, id);

CREATE TABLE segment_members (
    snapshot_id BIGINT NOT NULL REFERENCES segment_snapshots (id),
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, customer_id)
);

-- Filled by the scoring job (RFM by quintiles, CLV); read by score conditions.
CREATE TABLE customer_scores (
    customer_id BIGINT PRIMARY KEY,
    recency_days BIGINT,
    frequency BIGINT,
    monetary BIGINT,
    r BIGINT,
    f BIGINT,
    m BIGINT,
    rfm TEXT,
    clv_historic BIGINT,
    clv_predicted BIGINT,
    scored_at TEXT NOT NULL
);

-- "Bought category X / SKU Y": from the product to its buyers and their receipts.
CREATE INDEX receipt_lines_category ON receipt_lines (category, customer_id, receipt_id);
CREATE INDEX receipt_lines_sku ON receipt_lines (sku, customer_id, receipt_id);
-- Windows at one store with day precision.
CREATE INDEX receipts_store ON receipts (store_code, occurred_at);
-- Purchase windows over all customers with day precision.
CREATE INDEX receipts_occurred ON receipts (occurred_at);
-- Monthly figures of a window, for all customers at once.
CREATE INDEX customer_monthly_month ON customer_monthly (month, customer_id);
CREATE INDEX customer_stores_store ON customer_stores (store_code, customer_id);
CREATE INDEX vouchers_customer_status ON vouchers (status, customer_id);
