-- Campaigns (DOMAIN §6): a segment, a voucher template, contact channels and a control group.
-- Starting one freezes the segment into a snapshot and writes one row per member (group,
-- channel or why none, the voucher); the figures at the start (RFM, orders and revenue of the
-- last 12 months) are kept with the member so that the results break down the same way later.

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    segment_id BIGINT NOT NULL REFERENCES segments (id),
    value_type TEXT NOT NULL CHECK (value_type IN ('amount', 'percent')),
    value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    min_order BIGINT NOT NULL DEFAULT 0,
    validity_days BIGINT NOT NULL,
    voucher_channels TEXT NOT NULL,
    contact_channels TEXT NOT NULL,
    control_share_bp BIGINT NOT NULL,
    seed BIGINT NOT NULL,
    scheduled_at TEXT,
    state TEXT NOT NULL CHECK (state IN ('draft', 'running', 'done')),
    snapshot_id BIGINT,
    started_at TEXT,
    finished_at TEXT,
    cursor BIGINT NOT NULL DEFAULT 0,
    members BIGINT NOT NULL DEFAULT 0,
    target_members BIGINT NOT NULL DEFAULT 0,
    control_members BIGINT NOT NULL DEFAULT 0,
    email_members BIGINT NOT NULL DEFAULT 0,
    letter_members BIGINT NOT NULL DEFAULT 0,
    unreachable BIGINT NOT NULL DEFAULT 0,
    vouchers_issued BIGINT NOT NULL DEFAULT 0,
    letters BIGINT NOT NULL DEFAULT 0,
    emails BIGINT NOT NULL DEFAULT 0,
    synced_at TEXT,
    synced_members BIGINT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX campaigns_due ON campaigns (state, scheduled_at);

CREATE TABLE campaign_members (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    customer_id BIGINT NOT NULL,
    member_group TEXT NOT NULL CHECK (member_group IN ('target', 'control')),
    channel TEXT CHECK (channel IN ('email', 'letter')),
    unreachable_reason TEXT,
    voucher_id BIGINT,
    rfm TEXT,
    orders_12m BIGINT NOT NULL DEFAULT 0,
    revenue_12m BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, customer_id)
);
-- Members pages by group, the issuing steps (target members with a channel, after the cursor).
CREATE INDEX campaign_members_group ON campaign_members (campaign_id, member_group, customer_id);
CREATE INDEX campaign_members_voucher ON campaign_members (voucher_id);
CREATE INDEX campaign_members_customer ON campaign_members (customer_id);

-- The files of a campaign (the lettershop batch, the email list), downloadable again identically.
CREATE TABLE campaign_files (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    kind TEXT NOT NULL CHECK (kind IN ('lettershop', 'email')),
    rows BIGINT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, kind)
);
