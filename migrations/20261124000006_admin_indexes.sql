-- What the admin order list and dashboard need beyond 20261124000005_accounts.sql, so they
-- stay fast at 100,000 orders.

-- Email search is a case-insensitive prefix match (`lower(email) like 'ann%'`). A plain
-- b-tree on lower(email) serves LIKE only under the C collation (the embedded cluster's);
-- text_pattern_ops serves it under any collation, as on a server reached with DATABASE_URL.
create index orders_email_pattern_idx on orders (lower(email) text_pattern_ops);

-- The dashboard's "needs attention" list: flagged orders are few, so a partial index finds
-- them without reading every order.
create index orders_needs_review_idx on orders (created_at desc) where needs_review;
