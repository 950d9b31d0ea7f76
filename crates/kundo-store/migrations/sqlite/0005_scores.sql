-- Customer scores (DOMAIN §7), recomputed by the scores job (`kundo run scores`, nightly in
-- serve). One row per customer active in the last 24 months before the run's as-of date;
-- customers without a purchase in that window have no row (the job deletes it), so "no score"
-- reads as "lapsed or never bought". Money in minor units.

-- The table itself comes with the segments (0004), which select by it.
-- Segment conditions select by code ("555", "5%"), by single scores and by value.
CREATE INDEX customer_scores_rfm ON customer_scores (rfm);
CREATE INDEX customer_scores_r ON customer_scores (r, f, m);
CREATE INDEX customer_scores_clv ON customer_scores (clv_predicted);

-- Every fit of the lifetime-value models, newest last: what the predictions of a run came from,
-- and what the customer view uses for P(alive). Parameters are model numbers, not money, so
-- REAL is right here. NULL parameters with `error` set: the fit failed and the previous
-- predictions were kept.
CREATE TABLE score_models (
    id INTEGER PRIMARY KEY,
    run_id BIGINT,
    as_of TEXT NOT NULL,
    fitted_at TEXT NOT NULL,
    base_customers BIGINT NOT NULL,
    customers BIGINT NOT NULL,
    bg_r REAL,
    bg_alpha REAL,
    bg_a REAL,
    bg_b REAL,
    bg_log_likelihood REAL,
    gg_customers BIGINT,
    gg_p REAL,
    gg_q REAL,
    gg_v REAL,
    gg_log_likelihood REAL,
    horizon_weeks REAL NOT NULL,
    rfm_breaks TEXT,
    error TEXT
);
