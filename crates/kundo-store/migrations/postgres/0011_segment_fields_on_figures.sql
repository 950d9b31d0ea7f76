-- The customer's own fields that a segment can test, copied onto the customer's figure row, so
-- that a segment of buyers that also tests a field (seed 2: "… female …") reads customer_stats
-- alone instead of joining every candidate to customers (ADR 14). Triggers keep the copies
-- exact: a new figure row takes them from customers, a change of customers passes them on.
-- customers stays the only place the application writes them.
ALTER TABLE customer_stats
    ADD COLUMN kind TEXT,
    ADD COLUMN salutation TEXT,
    ADD COLUMN gender TEXT,
    ADD COLUMN language TEXT,
    ADD COLUMN preferred_channel TEXT,
    ADD COLUMN birth_date DATE;

UPDATE customer_stats m
SET kind = c.kind, salutation = c.salutation, gender = c.gender, language = c.language,
    preferred_channel = c.preferred_channel, birth_date = c.birth_date
FROM customers c
WHERE c.id = m.customer_id;

-- Segment scans read customer_stats in physical order and probe the other figure tables per
-- candidate; rows in customer order make those probes walk the indexes instead of jumping
-- (seed 3 at 1M: 280 → 185 ms). Every sale updates its customer's row: room on each page keeps
-- the new version beside the old one (a HOT update), so the order lasts. The backfill above
-- wrote a second version of every row; CLUSTER rewrites the table in key order, with the room.
ALTER TABLE customer_stats SET (fillfactor = 70);
CLUSTER customer_stats USING customer_stats_pkey;

-- BEFORE INSERT sets the new row's copies, so the row is written once. It runs for every row an
-- upsert proposes, also when the customer's row exists and the upsert updates it instead (one
-- primary-key look-up per sale). An AFTER INSERT trigger that updates the row ran only for a
-- customer's first sale, but left a second version of every row behind: after the 1M demo
-- load customer_stats took 259 MB (with this trigger 176 MB), and every scan pays for its size.
CREATE FUNCTION customer_stats_take_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.kind, c.salutation, c.gender, c.language, c.preferred_channel, c.birth_date
    INTO NEW.kind, NEW.salutation, NEW.gender, NEW.language, NEW.preferred_channel, NEW.birth_date
    FROM customers c
    WHERE c.id = NEW.customer_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER customer_stats_take_fields BEFORE INSERT ON customer_stats
    FOR EACH ROW EXECUTE FUNCTION customer_stats_take_fields();

CREATE FUNCTION customers_pass_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customer_stats
    SET kind = NEW.kind, salutation = NEW.salutation, gender = NEW.gender, language = NEW.language,
        preferred_channel = NEW.preferred_channel, birth_date = NEW.birth_date
    WHERE customer_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_pass_fields
    AFTER UPDATE OF kind, salutation, gender, language, preferred_channel, birth_date ON customers
    FOR EACH ROW
    WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.salutation IS DISTINCT FROM NEW.salutation
          OR OLD.gender IS DISTINCT FROM NEW.gender OR OLD.language IS DISTINCT FROM NEW.language
          OR OLD.preferred_channel IS DISTINCT FROM NEW.preferred_channel
          OR OLD.birth_date IS DISTINCT FROM NEW.birth_date)
    EXECUTE FUNCTION customers_pass_fields();

-- "Bought category X at least n times" for the candidates of a figure scan: PostgreSQL hashes
-- the category's customers from this index instead of probing the totals once per candidate
-- (seed 2: 114k probes). SQLite keeps probing its WITHOUT ROWID key; it gets no such index.
CREATE INDEX customer_category_totals_category
    ON customer_category_totals (category, receipts, customer_id);
