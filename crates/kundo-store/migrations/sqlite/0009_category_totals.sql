-- Sales per customer and category over all time (the sum of customer_categories), kept by
-- ingest and merges: "bought Papier at least twice" is one row per customer, which PostgreSQL
-- answers with a semi-join instead of a sum per customer (ADR 8).
CREATE TABLE customer_category_totals (
    customer_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    PRIMARY KEY (customer_id, category)
);

INSERT INTO customer_category_totals (customer_id, category, receipts)
SELECT customer_id, category, SUM(receipts) FROM customer_categories GROUP BY customer_id, category;
