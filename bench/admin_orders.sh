#!/usr/bin/env bash
# The admin order list, its export and the dashboard at 100,000 orders. Starts the release
# binary on a throwaway embedded cluster (which applies the migrations), seeds the orders with
# one INSERT ... SELECT generate_series (plus their eSIMs and checkout events), then prints
#   1. EXPLAIN ANALYZE execution times of the queries src/db/admin_reports.rs generates, with
#      literal values in place of the bind parameters, and
#   2. the HTTP time of the same pages, signed in as an admin (best of 5 requests).
# Only loopback traffic; bounded: a fixed list of queries, a statement timeout, then cleanup.
#
#   bench/admin_orders.sh              # 100,000 orders
#   ORDERS=20000 bench/admin_orders.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-100000}
PORT=${PORT:-18081}

cargo build --release --quiet
data=$(mktemp -d /tmp/tern-bench-admin.XXXXXX)
chmod 755 "$data"
export TERN_DATA_DIR="$data"
TERN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn ./target/release/tern &
server=$!
cleanup() { kill -INT "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

base="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/readyz" >/dev/null

# The embedded cluster listens on a unix socket in its data directory and trusts local users.
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$data/postgres" -p 5432 -U tern -d tern "$@"; }

echo "seeding $ORDERS orders..." >&2
sql -v orders="$ORDERS" <<'SQL'
set statement_timeout = '300s';
-- Plans weighted towards the first ones (a few popular plans, a long tail); statuses in
-- realistic proportions; one order every 25 seconds back from now (100,000 ≈ 29 days).
with plan_list as (
    select row_number() over (order by id) - 1 as i, id, name, price_minor, currency from plans
), plan_count as (select count(*) as c from plans)
insert into orders (plan_id, plan_name, amount_minor, currency, email, status, access_token_sha256,
                    needs_review, created_at, paid_at)
select p.id, p.name, p.price_minor, p.currency,
       'traveller' || n || '@example' || (n % 200) || '.com',
       (array['ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'paid', 'provisioning', 'awaiting_payment',
              'expired', 'expired', 'payment_failed', 'provisioning_failed', 'refunded'])[1 + n % 14]::order_status,
       decode(md5(n || 'a') || md5(n || 'b'), 'hex'),
       n % 997 = 0,
       now() - n * interval '25 seconds',
       now() - n * interval '25 seconds' + interval '1 minute'
  from generate_series(1, :orders) n
  join plan_list p on p.i = floor((select c from plan_count) * power((n * 7919 % 1000) / 1000.0, 3))::bigint;
update orders set paid_at = null where status in ('awaiting_payment', 'expired', 'payment_failed');
insert into esims (order_id, tag, iccid)
select id, 'tern-order-' || id, '8988307' || lpad((row_number() over (order by id))::text, 12, '0')
  from orders where status in ('ready', 'refunded', 'provisioning');
insert into order_events (order_id, type, actor, created_at)
select id, t.type, 'traveller', created_at from orders, (values ('created'), ('checkout_started')) t (type)
 where t.type = 'created' or status <> 'awaiting_payment' or id::text < '8';
analyze;
SQL

# Values the queries below use in place of bind parameters.
sql -At <<'SQL' >"$data/vars"
select 'deep_at=' || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ' deep_id=' || id
       || ' deep_cursor=' || (extract(epoch from created_at) * 1000000)::bigint || '_' || id
  from orders order by created_at desc, id desc offset 90000 limit 1;
select 'jp_plans=' || array_agg(p.id)::text from plans p
 where exists (select 1 from plan_coverage c where c.plan_id = p.id and c.destination_iso = 'JP');
select 'local_plans=' || array_agg(id)::text from plans where kind = 'local';
select 'iccid=' || iccid from esims order by iccid desc limit 1;
select 'order_id=' || id from orders order by id limit 1;
SQL
deep_at=$(sed -n 's/^deep_at=\([^ ]*\) .*/\1/p' "$data/vars")
deep_id=$(sed -n 's/.* deep_id=\([^ ]*\) .*/\1/p' "$data/vars")
deep_cursor=$(sed -n 's/.* deep_cursor=//p' "$data/vars")
jp_plans=$(sed -n 's/^jp_plans=//p' "$data/vars")
local_plans=$(sed -n 's/^local_plans=//p' "$data/vars")
iccid=$(sed -n 's/^iccid=//p' "$data/vars")
order_id=$(sed -n 's/^order_id=//p' "$data/vars")

select="select o.id, o.created_at, o.email, o.plan_id, o.plan_name, o.amount_minor, o.currency::text as currency,
        o.status::text as status, o.needs_review, e.iccid from orders o left join esims e on e.order_id = o.id where true"
newest="order by o.created_at desc, o.id desc"
since="date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - interval '29 days'"
revenue="'{paid,provisioning,ready,provisioning_failed}'::text[]::order_status[]"
declare -a labels queries
q() { labels+=("$1"); queries+=("$2"); }
q "newest, first page" "$select $newest limit 51"
q "newest, after a cursor 90,000 deep" "$select and (o.created_at, o.id) < ('$deep_at', '$deep_id') $newest limit 51"
q "oldest, first page" "$select order by o.created_at asc, o.id asc limit 51"
q "status=provisioning_failed" "$select and o.status = 'provisioning_failed'::order_status $newest limit 51"
q "destination=JP (plan ids)" "$select and o.plan_id = any('$jp_plans'::uuid[]) $newest limit 51"
q "type=local (plan ids)" "$select and o.plan_id = any('$local_plans'::uuid[]) $newest limit 51"
q "from/to: one week" "$select and o.created_at >= now() - interval '14 days' and o.created_at < now() - interval '7 days' $newest limit 51"
q "q=email prefix" "$select and lower(o.email) like 'traveller4242%' $newest limit 51"
q "q=ICCID" "$select and e.iccid = '$iccid' $newest limit 51"
q "q=order id" "$select and o.id = '$order_id' $newest limit 51"
q "amount_desc, page 1" "$select order by o.amount_minor desc, o.created_at desc, o.id desc limit 51 offset 0"
q "amount_desc, page 100" "$select order by o.amount_minor desc, o.created_at desc, o.id desc limit 51 offset 4950"
q "CSV export, every order" "$select $newest limit 100000 offset 0"
q "dashboard: daily totals" "select (o.created_at at time zone 'UTC')::date as day, o.currency::text, count(*),
   count(*) filter (where o.status = any($revenue)),
   coalesce(sum(o.amount_minor) filter (where o.status = any($revenue)), 0)::bigint
   from orders o where o.created_at >= $since group by 1, 2 order by 1, 2"
q "dashboard: orders per plan" "select o.plan_id, min(o.plan_name), count(*) as orders from orders o
   where o.created_at >= $since and o.status = any($revenue) group by o.plan_id order by orders desc, 2"
q "dashboard: checkout conversion" "select count(*), count(*) filter (where o.status =
   any('{paid,provisioning,ready,provisioning_failed,refunded}'::text[]::order_status[]))
   from orders o where o.created_at >= $since
   and exists (select 1 from order_events e where e.order_id = o.id and e.type = 'checkout_started')"
q "dashboard: needs attention" "select o.id from orders o
   where o.status = any('{provisioning_failed}'::text[]::order_status[])
      or (o.status = any('{paid,provisioning}'::text[]::order_status[])
          and coalesce(o.paid_at, o.created_at) < now() - make_interval(secs => 600))
      or o.needs_review
   order by o.created_at desc, o.id desc limit 51"

echo
printf '%-40s %12s   %s\n' "query" "execution" "first scan of the plan"
for i in "${!queries[@]}"; do
  plan=$(sql -At -c "set statement_timeout = '60s'" -c "explain (analyze, buffers off) ${queries[$i]}")
  ms=$(sed -n 's/^Execution Time: \(.*\) ms$/\1/p' <<<"$plan")
  scan=$(grep -m1 -oE '(Parallel )?(Index Only Scan|Index Scan Backward|Index Scan|Bitmap Index Scan|Seq Scan)( using [a-z_]+)? on [a-z_]+' <<<"$plan" || true)
  printf '%-40s %9s ms   %s\n' "${labels[$i]}" "$ms" "$scan"
done

# The same through HTTP, signed in as an admin created with the CLI.
echo 'bench admin password' | ./target/release/tern admin create --email bench@example.com >/dev/null
jar="$data/cookies"
token=$(curl -fs -c "$jar" -b "$jar" "$base/account/sign-in" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$token" \
  --data-urlencode "email=bench@example.com" --data-urlencode "password=bench admin password" "$base/account/sign-in"
echo
printf '%-52s %10s %10s\n' "GET" "status" "best of 5"
for path in "/admin/orders" "/admin/orders?cursor=$deep_cursor" "/admin/orders?status=provisioning_failed" \
  "/admin/orders?destination=JP" "/admin/orders?type=local" "/admin/orders?q=traveller4242" \
  "/admin/orders?q=$iccid" "/admin/orders?sort=amount_desc&page=100" "/admin/orders.csv" "/admin" "/admin/audit"; do
  best=
  for _ in 1 2 3 4 5; do
    out=$(curl -s -o /dev/null -b "$jar" -w '%{http_code} %{time_total}' "$base$path")
    t=${out#* }
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
  done
  label=$path
  [ "${#label}" -gt 52 ] && label="${label:0:49}..."
  printf '%-52s %10s %9.0f ms\n' "$label" "${out%% *}" "$(awk -v t="$best" 'BEGIN { print t * 1000 }')"
done
echo "($ORDERS orders, $(nproc) cores, release build)"
