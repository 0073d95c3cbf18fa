-- Accounts: travellers, support and admin users; mobile API tokens; sign-in rate limiting;
-- the audit log; and what operators need to find orders fast at 100,000 of them.

create type user_role as enum ('customer', 'support', 'admin');

create table users (
    id            uuid primary key default gen_random_uuid(),
    -- Stored as typed, with the domain in lower case (see domain::email); unique case-insensitively.
    email         text not null check (length(email) between 3 and 254),
    password_hash text not null,
    role          user_role not null default 'customer',
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create unique index users_email_idx on users (lower(email));
create trigger users_updated_at before update on users
    for each row execute function set_updated_at();

-- Orders placed while signed in, or claimed later by opening the order link signed in.
alter table orders add column user_id uuid references users (id);
create index orders_user_idx on orders (user_id, created_at desc);

-- Who did it, when an operator acted on an order.
alter table order_events add column user_id uuid references users (id);

-- What has been refunded so far, in minor units (refunds may be partial and several).
alter table orders add column refunded_minor bigint not null default 0 check (refunded_minor >= 0);

-- Bearer tokens for the mobile app, stored as SHA-256.
create table api_tokens (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    token_sha256 bytea not null unique check (length(token_sha256) = 32),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    revoked_at   timestamptz
);

-- Sign-in and sign-up attempts, per IP and per account, for rate limiting shared by every
-- Tern process on the database.
create table auth_attempts (
    id         bigint generated always as identity primary key,
    key        text not null,
    created_at timestamptz not null default now()
);
create index auth_attempts_key_idx on auth_attempts (key, created_at);

-- Every admin action and sign-in: who, what, when, from where.
create table audit_log (
    id         bigint generated always as identity primary key,
    user_id    uuid references users (id),
    user_email text,
    action     text not null,
    target     text,
    details    jsonb not null default '{}',
    ip         text,
    created_at timestamptz not null default now()
);
create index audit_log_created_idx on audit_log (created_at desc);

-- The admin order list: newest first by default, filtered by status and plan, searched by
-- email and ICCID.
create index orders_created_idx on orders (created_at desc, id desc);
create index orders_plan_created_idx on orders (plan_id, created_at desc);
create index orders_email_idx on orders (lower(email));
create index esims_iccid_idx on esims (iccid);
