-- The loyalty core (DOMAIN §2-§4, §8): stores, receipts and their lines, the points ledger,
-- per-customer purchase figures, vouchers, runs, lettershop batches, points rules, webhooks.

CREATE TABLE stores (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'store',
    street TEXT,
    postcode TEXT,
    city TEXT,
    country TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE points_rules (
    id INTEGER PRIMARY KEY,
    valid_from TEXT NOT NULL,
    rules TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE receipts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    original_receipt_id BIGINT,
    customer_id BIGINT,
    store_code TEXT,
    channel TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_amount BIGINT NOT NULL,
    eligible_amount BIGINT NOT NULL,
    weight BIGINT NOT NULL,
    points BIGINT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX receipts_customer ON receipts (customer_id, occurred_at);
CREATE INDEX receipts_original ON receipts (original_receipt_id);

CREATE TABLE receipt_lines (
    receipt_id BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    customer_id BIGINT,
    sku TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    weight BIGINT NOT NULL,
    original_line_no BIGINT,
    PRIMARY KEY (receipt_id, line_no)
);
CREATE INDEX receipt_lines_customer ON receipt_lines (customer_id, category);

CREATE TABLE points_ledger (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    points BIGINT NOT NULL,
    receipt_id BIGINT,
    voucher_id BIGINT,
    run_id BIGINT,
    reason TEXT,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX points_ledger_customer ON points_ledger (customer_id, id);

-- The balance next to the ledger it sums, changed in the same transaction as every entry.
CREATE TABLE points_accounts (
    customer_id BIGINT PRIMARY KEY,
    balance BIGINT NOT NULL
);
CREATE INDEX points_accounts_balance ON points_accounts (balance);

CREATE TABLE customer_stats (
    customer_id BIGINT PRIMARY KEY,
    first_purchase TEXT,
    last_purchase TEXT,
    receipts BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    online_receipts BIGINT NOT NULL,
    online_revenue BIGINT NOT NULL
);

CREATE TABLE customer_monthly (
    customer_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    online_receipts BIGINT NOT NULL,
    online_revenue BIGINT NOT NULL,
    PRIMARY KEY (customer_id, month)
);

CREATE TABLE customer_stores (
    customer_id BIGINT NOT NULL,
    store_code TEXT NOT NULL,
    receipts BIGINT NOT NULL,
    revenue BIGINT NOT NULL,
    PRIMARY KEY (customer_id, store_code)
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    state TEXT NOT NULL,
    cursor BIGINT NOT NULL DEFAULT 0,
    vouchers_issued BIGINT NOT NULL DEFAULT 0,
    points_converted BIGINT NOT NULL DEFAULT 0,
    customers_considered BIGINT NOT NULL DEFAULT 0,
    letters BIGINT NOT NULL DEFAULT 0,
    left_out_address BIGINT NOT NULL DEFAULT 0,
    left_out_consent BIGINT NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    finished_at TEXT,
    UNIQUE (kind, period)
);

CREATE TABLE vouchers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    customer_id BIGINT,
    value_type TEXT NOT NULL,
    value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    min_order BIGINT NOT NULL DEFAULT 0,
    channels TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status TEXT NOT NULL,
    run_id BIGINT,
    issued_at TEXT NOT NULL,
    redeemed_at TEXT,
    redeemed_channel TEXT,
    redeemed_store TEXT,
    redeemed_receipt TEXT,
    changed_at TEXT NOT NULL
);
CREATE INDEX vouchers_customer ON vouchers (customer_id, status);
CREATE INDEX vouchers_expiry ON vouchers (status, valid_until);
CREATE INDEX vouchers_run ON vouchers (run_id);

-- One voucher per customer and run: what makes runs idempotent and resumable.
CREATE TABLE run_items (
    run_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    voucher_id BIGINT NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);

-- One birthday voucher per customer and year, whatever day the run served it.
CREATE TABLE birthday_vouchers (
    customer_id BIGINT NOT NULL,
    year BIGINT NOT NULL,
    voucher_id BIGINT NOT NULL,
    PRIMARY KEY (customer_id, year)
);

CREATE TABLE lettershop_batches (
    id INTEGER PRIMARY KEY,
    run_id BIGINT NOT NULL UNIQUE,
    rows BIGINT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    event_types TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    cursor BIGINT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    delivered BOOLEAN NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
