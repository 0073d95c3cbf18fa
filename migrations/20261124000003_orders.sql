-- Orders, their event history, processed Stripe events, durable jobs and API idempotency keys.

create type order_status as enum (
    'awaiting_payment', 'paid', 'provisioning', 'ready',
    'payment_failed', 'expired', 'provisioning_failed', 'refunded'
);

create table orders (
    id                       uuid primary key default gen_random_uuid(),
    plan_id                  uuid not null references plans (id),
    -- Copied from the catalogue when the order is placed: later catalogue edits never change an order.
    plan_name                text not null,
    amount_minor             bigint not null check (amount_minor > 0),
    currency                 char(3) not null check (currency ~ '^[A-Z]{3}$'),
    email                    text not null check (length(email) between 3 and 254),
    status                   order_status not null default 'awaiting_payment',
    -- SHA-256 of the order's access token; the token itself is only ever in the traveller's link.
    access_token_sha256      bytea not null unique check (length(access_token_sha256) = 32),
    stripe_session_id        text unique check (length(stripe_session_id) <= 255),
    stripe_payment_intent_id text check (length(stripe_payment_intent_id) <= 255),
    -- Set when Stripe's amount or currency did not match the order: an operator must look.
    needs_review             boolean not null default false,
    paid_at                  timestamptz,
    created_at               timestamptz not null default now(),
    updated_at               timestamptz not null default now()
);
create index orders_status_idx on orders (status, created_at desc);
create index orders_payment_intent_idx on orders (stripe_payment_intent_id);
create trigger orders_updated_at before update on orders
    for each row execute function set_updated_at();

-- Every state change of an order, in order: the timeline shown to travellers and operators.
create table order_events (
    id         bigint generated always as identity primary key,
    order_id   uuid not null references orders (id) on delete cascade,
    type       text not null check (type ~ '^[a-z_]{1,40}$'),
    actor      text not null check (actor in ('traveller', 'stripe', 'system', 'admin')),
    details    jsonb not null default '{}',
    created_at timestamptz not null default now()
);
create index order_events_order_idx on order_events (order_id, id);

-- Stripe event ids already handled: a redelivery is a no-op.
create table stripe_events (
    id          text primary key,
    type        text not null,
    received_at timestamptz not null default now()
);

-- Durable background work. One job of a kind per order.
create table jobs (
    id           bigint generated always as identity primary key,
    kind         text not null check (kind ~ '^[a-z_]{1,40}$'),
    order_id     uuid references orders (id) on delete cascade,
    status       text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
    attempts     integer not null default 0,
    run_at       timestamptz not null default now(),
    locked_until timestamptz,
    last_error   text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    unique (kind, order_id)
);
create index jobs_runnable_idx on jobs (run_at) where status in ('queued', 'running');
create trigger jobs_updated_at before update on jobs
    for each row execute function set_updated_at();

-- Idempotency keys of API writes: the same key and body replay the first answer.
create table api_idempotency (
    scope          text not null,
    key            text not null check (length(key) between 1 and 255),
    request_sha256 bytea not null,
    status         smallint,
    body           jsonb,
    created_at     timestamptz not null default now(),
    primary key (scope, key)
);
