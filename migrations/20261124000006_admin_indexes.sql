-- What the admin order list and dashboard need beyond 20261124000005_accounts.sql, so they
-- stay fast at 100,000 orders.

-- Email search is a case-insensitive prefix match (`lower(email) like 'ann%'`). A plain
-- b-tree on lower(email) serves LIKE only under the C collation (the embedded cluster's);
-- text_pattern_ops serves it under any collation, as on a server reached with DATABASE_URL.
create index orders_email_pattern_idx on orders (lower(email) text_pattern_ops);

-- The dashboard's "needs attention" list: flagged orders are few, so a partial index finds
-- them without reading every order.
create index orders_needs_review_idx on orders (created_at desc) where needs_review;

-- The amount sorts: with this index a page of the list, down to the 100th (offset 4,950),
-- reads at most 5,000 index entries instead of sorting every matching order. Scanned
-- backwards it serves the ascending sort too, hence ties broken the same way in reverse.
create index orders_amount_idx on orders (amount_minor desc, created_at desc, id desc);
