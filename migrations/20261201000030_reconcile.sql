-- Reconciling with Stripe: how far the sweep has read Stripe's events list, and when an
-- order still awaiting payment was last confirmed on read (at most once per interval).

create table stripe_event_cursor (
    id            boolean primary key default true check (id),
    last_created  bigint not null,
    last_event_id text not null check (length(last_event_id) <= 255),
    updated_at    timestamptz not null default now()
);

create table order_payment_checks (
    order_id   uuid primary key references orders (id) on delete cascade,
    checked_at timestamptz not null default now()
);
