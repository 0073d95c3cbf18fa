-- Kept API answers carry access tokens: they are now stored sealed with the application's key
-- (crypto::Cipher, bound to the scope and key) in body_sealed; body (in the clear) is only read
-- for rows written before this migration, and those are purged with every other row after 24 h.
alter table api_idempotency add column body_sealed bytea;
create index api_idempotency_created_idx on api_idempotency (created_at);
