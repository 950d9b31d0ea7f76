-- The customer's own fields that a segment can test, copied onto the customer's figure row, so
-- that a segment of buyers that also tests a field (seed 2: "… female …") reads customer_stats
-- alone instead of looking up every candidate in customers (ADR 14). Triggers keep the copies
-- exact: a new figure row takes them from customers, a change of customers passes them on.
-- customers stays the only place the application writes them.
ALTER TABLE customer_stats ADD COLUMN kind TEXT;
ALTER TABLE customer_stats ADD COLUMN salutation TEXT;
ALTER TABLE customer_stats ADD COLUMN gender TEXT;
ALTER TABLE customer_stats ADD COLUMN language TEXT;
ALTER TABLE customer_stats ADD COLUMN preferred_channel TEXT;
ALTER TABLE customer_stats ADD COLUMN birth_date TEXT;

UPDATE customer_stats
SET (kind, salutation, gender, language, preferred_channel, birth_date) =
    (SELECT c.kind, c.salutation, c.gender, c.language, c.preferred_channel, c.birth_date
     FROM customers c WHERE c.id = customer_stats.customer_id);

-- Runs only when the upsert of a sale inserts, i.e. for the customer's first sale.
CREATE TRIGGER customer_stats_take_fields AFTER INSERT ON customer_stats
BEGIN
    UPDATE customer_stats
    SET (kind, salutation, gender, language, preferred_channel, birth_date) =
        (SELECT c.kind, c.salutation, c.gender, c.language, c.preferred_channel, c.birth_date
         FROM customers c WHERE c.id = NEW.customer_id)
    WHERE customer_id = NEW.customer_id;
END;

CREATE TRIGGER customers_pass_fields
    AFTER UPDATE OF kind, salutation, gender, language, preferred_channel, birth_date ON customers
    WHEN OLD.kind IS NOT NEW.kind OR OLD.salutation IS NOT NEW.salutation
        OR OLD.gender IS NOT NEW.gender OR OLD.language IS NOT NEW.language
        OR OLD.preferred_channel IS NOT NEW.preferred_channel
        OR OLD.birth_date IS NOT NEW.birth_date
BEGIN
    UPDATE customer_stats
    SET kind = NEW.kind, salutation = NEW.salutation, gender = NEW.gender, language = NEW.language,
        preferred_channel = NEW.preferred_channel, birth_date = NEW.birth_date
    WHERE customer_id = NEW.id;
END;
