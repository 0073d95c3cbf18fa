-- The integrity report: each run (scheduled or asked for), and what it found. Only the latest
-- runs are kept; a finding fixed from the report is removed from its run at once.
create table integrity_runs (
    id          bigint generated always as identity primary key,
    trigger     text not null check (trigger in ('schedule', 'operator')),
    started_at  timestamptz not null,
    finished_at timestamptz not null default now(),
    -- Checks cut short by their bound per run, or that could not run (a provider was down).
    notes       jsonb not null default '[]'
);

create table integrity_findings (
    run_id   bigint not null references integrity_runs (id) on delete cascade,
    -- Stable across runs: <kind>:<order id or SIM id>.
    key      text not null check (length(key) <= 200),
    kind     text not null check (kind ~ '^[a-z_]{1,40}$'),
    fix      text not null check (fix ~ '^[a-z_]{1,40}$'),
    -- No foreign key: a SIM's tag may name an order that does not exist.
    order_id uuid,
    sim_id   text,
    note     text not null default '',
    details  jsonb not null default '{}',
    primary key (run_id, key)
);
