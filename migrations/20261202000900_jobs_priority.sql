-- The eSIM first, then the messages: a due provisioning (or a refunded order's SIM disabling)
-- is claimed before the emails and webhook deliveries that are due beside it, so a burst of
-- orders does not wait behind its own "payment received" emails.
alter table jobs add column priority smallint not null
    generated always as (case when kind in ('provision_esim', 'disable_esim') then 0 else 1 end) stored;
drop index jobs_runnable_idx;
create index jobs_runnable_idx on jobs (priority, run_at, id) where status in ('queued', 'running');
