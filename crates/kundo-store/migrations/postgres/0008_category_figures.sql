-- Sales per customer, category and month (a sale counts once per category it contains), kept
-- by ingest and merges: "bought Möbel last year" and "Papier at least twice" read a few rows
-- per customer instead of joining receipt lines to receipts (ADR 8). Filled here from the
-- receipts already booked.
CREATE TABLE customer_categories (
    customer_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    month TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    PRIMARY KEY (customer_id, category, month)
);

INSERT INTO customer_categories (customer_id, category, month, receipts)
SELECT r.customer_id, l.category, to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM'), COUNT(DISTINCT r.id)
FROM receipts r JOIN receipt_lines l ON l.receipt_id = r.id
WHERE r.kind = 'sale' AND r.customer_id IS NOT NULL
GROUP BY r.customer_id, l.category, to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM');
