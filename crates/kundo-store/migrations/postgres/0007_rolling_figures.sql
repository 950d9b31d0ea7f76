-- Purchase figures of the last twelve calendar months per customer, beside the all-time ones, so
-- that segment conditions on "the last 12 months" read one row per customer instead of summing
-- customer_monthly (ADR 8). The window row always exists: ingest and merges lock it shared
-- (PostgreSQL), the monthly roll locks it exclusively before it recomputes the columns. The
-- empty months mean "not rolled yet": the segment compiler uses the columns only when the
-- window it needs is exactly the one stored here.
CREATE TABLE rolling_window (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    from_month TEXT NOT NULL,
    to_month TEXT NOT NULL
);
INSERT INTO rolling_window (id, from_month, to_month) VALUES (1, '', '');

ALTER TABLE customer_stats ADD COLUMN receipts_12m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN revenue_12m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN online_receipts_12m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN online_revenue_12m BIGINT NOT NULL DEFAULT 0;
