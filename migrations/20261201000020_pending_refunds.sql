-- Refunds Stripe reported before Tern saw the payment (a `charge.refunded` delivered before
-- `checkout.session.completed`): kept per PaymentIntent, cumulative, and applied when the
-- payment is confirmed, so a refund is never lost to delivery order.
create table pending_refunds (
    payment_intent text primary key,
    order_id       uuid references orders (id) on delete cascade,
    amount_minor   bigint not null check (amount_minor >= 0),
    full_refund    boolean not null default false,
    received_at    timestamptz not null default now()
);

create index pending_refunds_order_id on pending_refunds (order_id) where order_id is not null;
