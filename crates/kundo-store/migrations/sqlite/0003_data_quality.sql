-- Data quality and the contact history (DOMAIN §9-§11): blocking keys for the duplicate check,
-- the duplicates review queue, merges, postal returns, tasks, cases and activities.

-- Marketing stops for a customer reported deceased; postal advertising stops after a refusal.
ALTER TABLE customers ADD COLUMN reported_deceased_at TEXT;
ALTER TABLE customers ADD COLUMN postal_ads_blocked BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX customers_merged_into ON customers (merged_into);

-- Blocking keys (kundo_core::dedup::blocking_keys): a likely duplicate shares at least one, so
-- the check reads a handful of candidates instead of comparing with every customer.
CREATE TABLE dedup_keys (
    dedup_key TEXT NOT NULL,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (dedup_key, customer_id)
);
CREATE INDEX dedup_keys_customer ON dedup_keys (customer_id);

-- The review queue a duplicates scan fills; customer_a < customer_b.
CREATE TABLE duplicate_pairs (
    id INTEGER PRIMARY KEY,
    customer_a BIGINT NOT NULL,
    customer_b BIGINT NOT NULL,
    score BIGINT NOT NULL,
    reasons TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    found_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    UNIQUE (customer_a, customer_b)
);
CREATE INDEX duplicate_pairs_status ON duplicate_pairs (status, score);

CREATE TABLE merges (
    id INTEGER PRIMARY KEY,
    survivor_id BIGINT NOT NULL,
    merged_id BIGINT NOT NULL UNIQUE,
    field_choices TEXT NOT NULL,
    moved TEXT NOT NULL,
    actor TEXT NOT NULL,
    merged_at TEXT NOT NULL
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    team TEXT,
    assignee TEXT,
    due_date TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    source TEXT NOT NULL,
    source_ref TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX tasks_customer ON tasks (customer_id, status);
CREATE INDEX tasks_queue ON tasks (team, status, due_date);
CREATE INDEX tasks_assignee ON tasks (assignee, status, due_date);

CREATE TABLE task_comments (
    id INTEGER PRIMARY KEY,
    task_id BIGINT NOT NULL,
    customer_id BIGINT,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX task_comments_task ON task_comments (task_id, id);

-- Complaints and service requests: cases with a status and a history of their own.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    team TEXT,
    assignee TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX cases_customer ON cases (customer_id, status);

CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Contacts that are not purchases or vouchers (those are read from their own tables):
-- letters, emails, calls, visits, complaints, service requests, notes, postal returns, merges.
CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    channel TEXT,
    direction TEXT,
    subject TEXT NOT NULL,
    body TEXT,
    case_id BIGINT,
    ref TEXT,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX activities_customer ON activities (customer_id, occurred_at, id);

-- The timeline reads each part newest first per customer (kundo_store::timeline): voucher
-- events by their time. Only redeemed vouchers have a redemption time to index.
CREATE INDEX vouchers_customer_issued ON vouchers (customer_id, issued_at);
CREATE INDEX vouchers_customer_redeemed ON vouchers (customer_id, redeemed_at) WHERE redeemed_at IS NOT NULL;

-- Each applied or unmatched row of a postal returns import.
CREATE TABLE postal_returns (
    id INTEGER PRIMARY KEY,
    import_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    reference TEXT NOT NULL,
    customer_id BIGINT,
    reason_code TEXT NOT NULL,
    outcome TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX postal_returns_customer ON postal_returns (customer_id);
