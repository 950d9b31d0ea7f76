-- Each customer's sales of a category over all time gain the first and the last month they fell
-- in (YYYYMM numbers): "bought Möbel last year" and "no Möbel in the last quarter" become
-- tests on one row per customer and category, which an AND group combines into one look-up;
-- only a window strictly inside the first and last month still asks `customer_categories`
-- (ADR 16). PostgreSQL also keeps the set of months, which SQLite has no array type for.
CREATE TABLE customer_category_totals_with_months (
    customer_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    first_month INTEGER NOT NULL,
    last_month INTEGER NOT NULL,
    PRIMARY KEY (customer_id, category)
) WITHOUT ROWID;

INSERT INTO customer_category_totals_with_months
    (customer_id, category, receipts, first_month, last_month)
SELECT customer_id, category, SUM(receipts), MIN(m), MAX(m)
FROM (
    SELECT customer_id, category, receipts,
           CAST(substr(month, 1, 4) AS INTEGER) * 100 + CAST(substr(month, 6, 2) AS INTEGER) AS m
    FROM customer_categories
)
GROUP BY customer_id, category;

DROP TABLE customer_category_totals;
ALTER TABLE customer_category_totals_with_months RENAME TO customer_category_totals;
