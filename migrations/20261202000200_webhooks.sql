-- Outbound webhooks (Standard Webhooks): the API keys integrators manage them with, the
-- endpoints, the events sent (kept for `recover`), and every delivery attempt.

-- Bearer keys for integrators and admins, stored as SHA-256 (the key is shown once).
create table api_keys (
    id           uuid primary key default gen_random_uuid(),
    name         text not null check (length(name) between 1 and 100),
    role         text not null check (role in ('admin', 'integrator')),
    key_sha256   bytea not null unique check (length(key_sha256) = 32),
    -- The key's first characters, so an operator can tell keys apart.
    prefix       text not null check (length(prefix) <= 20),
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Where events are delivered. The signing secret (and, for 24 h after a rotation, the one
-- before it) is AES-256-GCM sealed, bound to the endpoint id.
create table webhook_endpoints (
    id                         uuid primary key default gen_random_uuid(),
    -- The key that created it (integrator keys see only their own); null from the admin pages.
    owner_key_id               uuid references api_keys (id) on delete set null,
    url                        text not null check (length(url) between 1 and 2048),
    description                text not null default '' check (length(description) <= 500),
    -- Empty: every type.
    event_types                text[] not null default '{}',
    enabled                    boolean not null default true,
    disabled_reason            text,
    disabled_at                timestamptz,
    secret_sealed              bytea not null,
    previous_secret_sealed     bytea,
    previous_secret_expires_at timestamptz,
    -- The first failed attempt since the last success: five days of it disables the endpoint.
    failing_since              timestamptz,
    created_at                 timestamptz not null default now(),
    updated_at                 timestamptz not null default now()
);
create index webhook_endpoints_owner_idx on webhook_endpoints (owner_key_id);
create trigger webhook_endpoints_updated_at before update on webhook_endpoints
    for each row execute function set_updated_at();

-- Every event sent: its id is the `webhook-id` of all its deliveries, and its payload is the
-- thin body as sent. A `ping` belongs to the one endpoint it tests.
create table webhook_events (
    id          uuid primary key default gen_random_uuid(),
    type        text not null check (type ~ '^[a-z_]+(\.[a-z_]+)?$'),
    order_id    uuid references orders (id) on delete set null,
    endpoint_id uuid references webhook_endpoints (id) on delete cascade,
    payload     jsonb not null,
    created_at  timestamptz not null default now()
);
create index webhook_events_created_idx on webhook_events (created_at);

-- Every delivery attempt: when, how it ended, how long it took, what the endpoint answered.
create table webhook_deliveries (
    id               bigint generated always as identity primary key,
    endpoint_id      uuid not null references webhook_endpoints (id) on delete cascade,
    event_id         uuid not null references webhook_events (id) on delete cascade,
    attempt          integer not null,
    attempted_at     timestamptz not null default now(),
    succeeded        boolean not null,
    status_code      smallint,
    latency_ms       integer not null,
    error            text,
    response_excerpt text
);
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id desc);
