-- Each claim of a job gets a fresh token: a heartbeat or an ending is written only by the
-- attempt that still holds the claim, so a runner whose job was taken over cannot extend,
-- finish or requeue it.
alter table jobs add column claim_token uuid;
