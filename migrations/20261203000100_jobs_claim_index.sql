-- A claim reads only queued jobs: the index no longer holds the running ones, which every
-- claim had to step over (and visit in the heap) to find the first queued job. A job whose
-- lease ran out (its worker died) is put back in the queue by `requeue_expired`, which the
-- lease index below finds without reading the rest of the table.
drop index jobs_runnable_idx;
create index jobs_queued_idx on jobs (priority, run_at, id) where status = 'queued';
create index jobs_leased_idx on jobs (locked_until) where status = 'running';
