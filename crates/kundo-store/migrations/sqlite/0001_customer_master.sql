-- The customer master (DOMAIN §1, §12, §13). Integer columns are BIGINT on both backends so that
-- both decode as i64; in SQLite only "INTEGER PRIMARY KEY" makes a rowid alias, hence the spelling.

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    customer_number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    merged_into BIGINT,
    salutation TEXT,
    title TEXT,
    first_name TEXT,
    last_name TEXT,
    company_name TEXT,
    birth_date TEXT,
    gender TEXT,
    language TEXT,
    email TEXT,
    preferred_channel TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_last_name ON customers (last_name);

CREATE VIRTUAL TABLE customer_search USING fts5 (doc, tokenize = 'trigram');

CREATE TABLE phones (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL
);
CREATE INDEX phones_customer ON phones (customer_id);
CREATE INDEX phones_number ON phones (number);

CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    street TEXT NOT NULL,
    house_number TEXT,
    address_line2 TEXT,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    postal_status TEXT NOT NULL DEFAULT 'ok',
    valid_from TEXT NOT NULL,
    valid_until TEXT
);
CREATE INDEX addresses_customer ON addresses (customer_id);
CREATE INDEX addresses_postcode ON addresses (postcode) WHERE valid_until IS NULL;

CREATE TABLE cards (
    card_number TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL DEFAULT 'active',
    issued_at TEXT NOT NULL
);
CREATE INDEX cards_customer ON cards (customer_id);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    proof TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX consents_customer ON consents (customer_id, channel, recorded_at);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    salutation TEXT,
    first_name TEXT,
    last_name TEXT NOT NULL,
    role TEXT NOT NULL,
    email TEXT,
    phone TEXT
);
CREATE INDEX contacts_customer ON contacts (customer_id);

CREATE TABLE attribute_definitions (
    name TEXT PRIMARY KEY,
    label TEXT,
    attr_type TEXT NOT NULL,
    allowed_values TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE customer_attributes (
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    value_int BIGINT,
    PRIMARY KEY (customer_id, name)
);
CREATE INDEX customer_attributes_value ON customer_attributes (name, value);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    customer_id BIGINT,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_customer ON audit_log (customer_id, id);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event_type TEXT NOT NULL,
    customer_id BIGINT,
    payload TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (actor, idem_key)
);
