-- Per-row work on the order path that bought nothing:
-- * jobs: the statements that update a job (db::jobs, db::webhooks) set updated_at themselves,
--   instead of a PL/pgSQL trigger on each of its three or more updates; and the wake-up
--   trigger runs only for a job queued (its WHEN is checked without calling the function), not
--   for every claim and completion too.
-- * orders: the text_pattern_ops index served the admin list's prefix search; the search is by
--   any part of the email now (the trigram index), and equality has orders_email_idx, so it was
--   only one more index to write on every insert and status change.
-- * dev_mailbox (development only): a message's raw bytes are mostly base64 (the QR code):
--   stored as they are, not compressed on every insert.
drop trigger jobs_updated_at on jobs;
drop trigger jobs_notify on jobs;
create trigger jobs_notify after insert or update of status, run_at on jobs
    for each row when (new.status = 'queued') execute function notify_job_queued();
drop index orders_email_pattern_idx;
alter table dev_mailbox alter column raw set storage external;
