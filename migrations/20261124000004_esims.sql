-- The eSIM bought for an order. One per order, ever: the row is written before Telnyx is
-- asked to buy, so an interrupted purchase is noticed and the SIM is looked up by its tag
-- instead of bought twice.

create table esims (
    order_id               uuid primary key references orders (id) on delete cascade,
    -- The tag the purchase carries at Telnyx: tern-order-<order id>.
    tag                    text not null unique,
    purchase_attempted_at  timestamptz,
    telnyx_sim_id          text unique,
    iccid                  text check (iccid ~ '^[0-9]{18,22}$'),
    telnyx_status          text,
    data_limit_mb          integer check (data_limit_mb > 0),
    data_limit_set_at      timestamptz,
    -- AES-256-GCM: nonce ‖ ciphertext of the LPA activation code, bound to the order id.
    activation_code_sealed bytea,
    ready_at               timestamptz,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now()
);
create trigger esims_updated_at before update on esims
    for each row execute function set_updated_at();

-- Wakes idle workers at once when work is queued.
create or replace function notify_job_queued() returns trigger language plpgsql as $$
begin
    if new.status = 'queued' then
        perform pg_notify('jobs_queued', new.kind);
    end if;
    return null;
end;
$$;
create trigger jobs_notify after insert or update of status, run_at on jobs
    for each row execute function notify_job_queued();
