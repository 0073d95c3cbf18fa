-- One job table for every kind of background work: eSIM provisioning, emails and webhook
-- deliveries. A job has a `key`, unique within its kind (the order id for provisioning, one
-- key per message for the outbox), and a `payload` for what its kind needs. Jobs without an
-- order (a webhook `ping`) are allowed.
alter table jobs add column key text;
update jobs set key = order_id::text;
alter table jobs alter column key set not null;
alter table jobs add constraint jobs_key_length check (length(key) between 1 and 200);
alter table jobs add column payload jsonb not null default '{}';
alter table jobs drop constraint jobs_kind_order_id_key;
alter table jobs add constraint jobs_kind_key unique (kind, key);
create index jobs_order_idx on jobs (order_id) where order_id is not null;
