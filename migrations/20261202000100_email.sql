-- Email: the development mailbox, extra order-link tokens minted for emails, account email
-- tokens (verification and password reset), and the flag that puts an order with an
-- undeliverable address on the admin's "needs attention".

-- Messages the in-process development SMTP server received (development and test mode only),
-- kept as they arrived so that /_dev/mail can show them after a restart.
create table dev_mailbox (
    id          bigint generated always as identity primary key,
    mail_from   text not null,
    rcpt_to     text[] not null,
    raw         bytea not null,
    received_at timestamptz not null default now()
);
create index dev_mailbox_received_idx on dev_mailbox (received_at desc, id desc);

-- Order links put in emails: each email gets its own token, stored as SHA-256 like the
-- checkout's own (orders.access_token_sha256), and opens the order the same way.
create table order_link_tokens (
    token_sha256 bytea primary key check (length(token_sha256) = 32),
    order_id     uuid not null references orders (id) on delete cascade,
    created_at   timestamptz not null default now()
);
create index order_link_tokens_order_idx on order_link_tokens (order_id);

-- Single-use account tokens sent by email, stored as SHA-256.
create table account_tokens (
    token_sha256 bytea primary key check (length(token_sha256) = 32),
    user_id      uuid not null references users (id) on delete cascade,
    purpose      text not null check (purpose in ('verify_email', 'reset_password')),
    expires_at   timestamptz not null,
    used_at      timestamptz,
    created_at   timestamptz not null default now()
);
create index account_tokens_user_idx on account_tokens (user_id, purpose);

-- Guest orders for an address are shown in an account only once it has proved it owns it.
alter table users add column email_verified_at timestamptz;

-- The SMTP server refused the order's address for good: an operator must correct it.
alter table orders add column email_undeliverable boolean not null default false;
