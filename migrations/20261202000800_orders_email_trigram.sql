-- Admin order search by any part of an email ("gmail", "ana@", "example.co"): a trigram index
-- serves `lower(email) like '%…%'` at 100,000 orders and more. pg_trgm ships with PostgreSQL
-- (contrib) and is a trusted extension (13+), so the database owner may create it.
create extension if not exists pg_trgm;
create index orders_email_trgm_idx on orders using gin (lower(email) gin_trgm_ops);
