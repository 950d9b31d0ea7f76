-- Inactive (merged) customers in a partial index of their own (ADR 9): a segment over
-- customer_stats excludes them with a hashed anti-join over this small index instead of
-- scanning every customers row. (The SQLite migration of the same number also stores the
-- per-customer figure tables WITHOUT ROWID; PostgreSQL's heap tables need no such change.)
CREATE INDEX customers_inactive ON customers (id) WHERE status <> 'active';
