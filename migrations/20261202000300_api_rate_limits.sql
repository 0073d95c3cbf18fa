-- API rate limits, shared by every Tern process: one row per (policy, client) key holding its
-- GCRA "theoretical arrival time". A request is allowed while `tat` stays within one window of
-- now; `allowed` is what the last request was told (read back by the same upsert).
-- Unlogged: losing the counters in a crash only resets the limits, and every API write updates
-- a row here, so it skips the WAL.
create unlogged table api_rate_limits (
    key     text primary key,
    tat     timestamptz not null,
    allowed boolean not null default true
);

-- The sweep deletes rows whose arrival time has passed (they mean the same as no row).
create index api_rate_limits_tat_idx on api_rate_limits (tat);
