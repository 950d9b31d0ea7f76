-- The per-customer figure tables, stored in key order (ADR 9). As rowid tables with a composite
-- or BIGINT primary key, every probe by customer searched the key's index and then the table;
-- WITHOUT ROWID tables are the key's B-tree, so a segment's probe per candidate is one search.
-- Inactive (merged) customers get a partial index of their own, small enough to exclude them
-- from a segment without reading every candidate's customers row.

CREATE TABLE customer_stats_by_customer (
    customer_id BIGINT NOT NULL PRIMARY KEY,
    first_purchase TEXT,
    last_purchase TEXT,
    receipts BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    online_receipts BIGINT NOT NULL,
    online_revenue BIGINT NOT NULL,
    receipts_12m BIGINT NOT NULL DEFAULT 0,
    revenue_12m BIGINT NOT NULL DEFAULT 0,
    online_receipts_12m BIGINT NOT NULL DEFAULT 0,
    online_revenue_12m BIGINT NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO customer_stats_by_customer (customer_id, first_purchase, last_purchase, receipts, revenue,
    online_receipts, online_revenue, receipts_12m, revenue_12m, online_receipts_12m, online_revenue_12m)
SELECT customer_id, first_purchase, last_purchase, receipts, revenue, online_receipts, online_revenue,
    receipts_12m, revenue_12m, online_receipts_12m, online_revenue_12m
FROM customer_stats WHERE customer_id IS NOT NULL;
DROP TABLE customer_stats;
ALTER TABLE customer_stats_by_customer RENAME TO customer_stats;

CREATE TABLE customer_stores_by_customer (
    customer_id BIGINT NOT NULL,
    store_code TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (customer_id, store_code)
) WITHOUT ROWID;
INSERT INTO customer_stores_by_customer (customer_id, store_code, receipts, revenue)
SELECT customer_id, store_code, receipts, revenue FROM customer_stores;
DROP TABLE customer_stores;
ALTER TABLE customer_stores_by_customer RENAME TO customer_stores;
CREATE INDEX customer_stores_store ON customer_stores (store_code, customer_id);

CREATE TABLE customer_categories_by_customer (
    customer_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    month TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    PRIMARY KEY (customer_id, category, month)
) WITHOUT ROWID;
INSERT INTO customer_categories_by_customer (customer_id, category, month, receipts)
SELECT customer_id, category, month, receipts FROM customer_categories;
DROP TABLE customer_categories;
ALTER TABLE customer_categories_by_customer RENAME TO customer_categories;

CREATE TABLE customer_category_totals_by_customer (
    customer_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    PRIMARY KEY (customer_id, category)
) WITHOUT ROWID;
INSERT INTO customer_category_totals_by_customer (customer_id, category, receipts)
SELECT customer_id, category, receipts FROM customer_category_totals;
DROP TABLE customer_category_totals;
ALTER TABLE customer_category_totals_by_customer RENAME TO customer_category_totals;

CREATE INDEX customers_inactive ON customers (id) WHERE status <> 'active';
