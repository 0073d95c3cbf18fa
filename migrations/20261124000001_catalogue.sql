-- The catalogue: regions, destinations (countries) and the plans on sale.
--
-- Money is integer minor units plus an ISO 4217 code, never floats. Data amounts are
-- integer megabytes; a NULL data_mb means the plan is unlimited, and then its fair-use
-- throttle must be stated. Every change to these tables sends NOTIFY catalogue_changed,
-- so every Tern process sharing the database refreshes its in-memory snapshot.

-- Maintains updated_at on UPDATE, for every table that has the column.
create or replace function set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

create table regions (
    -- A stable slug ("europe", "latin-america"): used in URLs and the API.
    id         text primary key check (id ~ '^[a-z][a-z-]{1,39}$'),
    name       text not null unique check (length(name) between 1 and 60),
    sort_order integer not null default 0
);

create table destinations (
    -- ISO 3166-1 alpha-2, upper case.
    iso             char(2) primary key check (iso ~ '^[A-Z]{2}$'),
    name            text not null unique check (length(name) between 1 and 80),
    -- Other names travellers type: "UK", "USA", "Turkey", "Holland"...
    aliases         text[] not null default '{}',
    region_id       text not null references regions (id),
    -- Popular destinations are shown on the home page, lowest rank first.
    popularity_rank integer check (popularity_rank > 0),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index destinations_region_idx on destinations (region_id);
create trigger destinations_updated_at before update on destinations
    for each row execute function set_updated_at();

create type plan_kind as enum ('local', 'regional', 'global');
create type validity_start as enum ('first_connection', 'installation');

create table plans (
    id                  uuid primary key default gen_random_uuid(),
    kind                plan_kind not null,
    name                text not null check (length(name) between 1 and 120),
    -- The single country of a local plan.
    destination_iso     char(2) references destinations (iso),
    -- The region a regional plan is sold under (its coverage may reach beyond it).
    region_id           text references regions (id),
    -- NULL = unlimited.
    data_mb             integer check (data_mb > 0),
    -- For unlimited plans: full speed up to fair_use_mb per day, then throttle_kbps.
    fair_use_mb         integer check (fair_use_mb > 0),
    throttle_kbps       integer check (throttle_kbps > 0),
    validity_days       integer not null check (validity_days between 1 and 365),
    price_minor         bigint not null check (price_minor > 0),
    currency            char(3) not null check (currency ~ '^[A-Z]{3}$'),
    validity_start      validity_start not null,
    hotspot             boolean not null,
    -- The best generation the plan reaches: '4G' or '5G'.
    network_generation  text not null check (network_generation in ('3G', '4G', '5G')),
    -- Partner operators, shown on local plans.
    operators           text[] not null default '{}',
    top_up              boolean not null default false,
    on_sale             boolean not null default true,
    -- Telnyx SIM card group that provisions it; NULL = the configured default group.
    sim_card_group_id   uuid,
    -- Anything the structured fields do not say (activation policy, eKYC, speed notes).
    fine_print          text not null default '',
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    constraint plans_local_has_destination check ((kind = 'local') = (destination_iso is not null)),
    constraint plans_regional_has_region check ((kind = 'regional') = (region_id is not null)),
    constraint plans_unlimited_states_fair_use check (
        (data_mb is null) = (fair_use_mb is not null and throttle_kbps is not null)
    )
);
create index plans_destination_idx on plans (destination_iso);
create trigger plans_updated_at before update on plans
    for each row execute function set_updated_at();

-- Which countries a plan works in. A local plan covers its own country.
create table plan_coverage (
    plan_id         uuid not null references plans (id) on delete cascade,
    destination_iso char(2) not null references destinations (iso),
    primary key (plan_id, destination_iso)
);
create index plan_coverage_destination_idx on plan_coverage (destination_iso);

create or replace function notify_catalogue_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('catalogue_changed', tg_table_name);
    return null;
end;
$$;

create trigger regions_notify after insert or update or delete or truncate on regions
    for each statement execute function notify_catalogue_changed();
create trigger destinations_notify after insert or update or delete or truncate on destinations
    for each statement execute function notify_catalogue_changed();
create trigger plans_notify after insert or update or delete or truncate on plans
    for each statement execute function notify_catalogue_changed();
create trigger plan_coverage_notify after insert or update or delete or truncate on plan_coverage
    for each statement execute function notify_catalogue_changed();
