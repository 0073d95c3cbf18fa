#!/usr/bin/env bash
# Lighthouse (mobile) and axe-core on the storefront, the admin and the API docs: prints a
# table and writes it into docs/ACCESSIBILITY.md (between the a11y markers), with what lost
# points. A manual check, not run by CI:
#
#   bench/a11y.sh                           # against target/release/tern (cargo build --release)
#   TERN_BIN=/path/to/tern bench/a11y.sh
#
# Targets on every page: accessibility 100 and 0 axe violations; performance, best practices
# and SEO 95 or more; the home page at most 10 KB over the wire with gzip. Exits 1 when one is
# missed (the table is written anyway). Needs node and npm (the pinned lighthouse, axe-core and
# puppeteer-core in bench/a11y/package-lock.json, installed with `npm ci` on the first run, no
# browser download) and Debian's chromium (CHROME_PATH, default /usr/bin/chromium).
#
# Tern runs as bench/orders.sh runs it: `tern emulators` (whose control tokens pay orders and
# hold one at Telnyx) and `tern` against them, on an embedded PostgreSQL in a throwaway data
# directory with the seeded catalogue. Two orders are bought through the API: one ready, one
# held "preparing" (Telnyx answers its purchase with 429 and a reset an hour away). An admin is
# created with `tern admin create`, signed in with curl, enrolled in TOTP (bench/a11y/totp.mjs)
# and its session cookie given to the browser for the admin pages. A11Y_ONLY='Admin|Help' (a
# regex on the page names) audits only those and leaves the doc alone.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${TERN_BIN:-target/release/tern}
PORT=${PORT:-18095}
STRIPE_PORT=${STRIPE_PORT:-12121}
TELNYX_PORT=${TELNYX_PORT:-12122}
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
doc=docs/ACCESSIBILITY.md
[ -x "$bin" ] || { echo "a11y: $bin is not an executable (build it, or set TERN_BIN)" >&2; exit 2; }
[ -x "$CHROME_PATH" ] || { echo "a11y: no Chromium at $CHROME_PATH (apt-get install chromium)" >&2; exit 2; }

if [ ! -d bench/a11y/node_modules/lighthouse ] || [ ! -d bench/a11y/node_modules/puppeteer-core ]; then
  echo "a11y: npm ci in bench/a11y (no browser downloads)" >&2
  CHROMEDRIVER_SKIP_DOWNLOAD=true PUPPETEER_SKIP_DOWNLOAD=1 \
    npm ci --prefix bench/a11y --ignore-scripts --no-audit --no-fund >&2
fi

# shellcheck source=bench/lib.sh
. bench/lib.sh
data=$(mktemp -d /tmp/tern-a11y.XXXXXX)
chmod 755 "$data"
server='' emulators=''
trap stop_all EXIT
start_emulators
start_tern
await_tern

plan=$(curl -fs "$base/api/v1/plans?destination=jp&per_page=1" | jq -r '.data[0].id')

# An order through the API, paid at the Stripe emulator; prints its id and access token.
buy() {
  local created session
  created=$(curl -fs -X POST "$base/api/v1/orders" -H 'content-type: application/json' \
    -H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)" -d "{\"plan_id\": \"$plan\", \"email\": \"a11y-$1@example.com\"}")
  session=$(echo "$created" | jq -r '.checkout_url' | sed 's#.*/##')
  curl -fs -X POST "$stripe/_emulator/sessions/$session/pay" -H 'content-type: application/json' \
    -H "X-Emulator-Token: $STRIPE_CONTROL_TOKEN" -d '{}' >/dev/null
  echo "$created" | jq -r '.id + " " + .access_token'
}
# Waits until the order's status is one of $2 (a jq regex), for up to 90 s.
await_status() {
  local status=''
  for _ in $(seq 1 450); do
    status=$(curl -fs "$base/api/v1/orders/$1" -H "Authorization: Bearer $3" | jq -r .status)
    [[ $status =~ ^($2)$ ]] && return 0
    sleep 0.2
  done
  echo "a11y: order $1 is $status, not $2" >&2
  return 1
}
read -r ready_id ready_token < <(buy ready)
await_status "$ready_id" ready "$ready_token"
# The second order's purchase is refused with a rate limit reset an hour away: the worker
# waits that long, so the order stays "preparing" for the whole run.
curl -fs -X POST "$telnyx/_emulator/inject" -H 'content-type: application/json' -H "X-Emulator-Token: $TELNYX_CONTROL_TOKEN" \
  -d '{"target": "purchase", "fault": "rate_limited", "reset_seconds": 3600, "times": 100}' >/dev/null
read -r preparing_id preparing_token < <(buy preparing)
await_status "$preparing_id" 'paid|provisioning' "$preparing_token"

# An admin, signed in and enrolled in TOTP with curl; the browser gets its cookies.
admin_email=a11y-admin@example.com admin_password='a11y bench admin password'
echo "$admin_password" | env "${tern_vars[@]}" "$bin" admin create --email "$admin_email" >"$data/admin.log" 2>&1 \
  || { cat "$data/admin.log" >&2; exit 2; }
jar="$data/admin.cookies"
csrf() { sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -1; }
token=$(curl -fs -c "$jar" -b "$jar" "$base/account/sign-in" | csrf)
curl -fs -c "$jar" -b "$jar" -o /dev/null -X POST "$base/account/sign-in" --data-urlencode "email=$admin_email" \
  --data-urlencode "password=$admin_password" --data-urlencode "csrf_token=$token" --data-urlencode "next=/admin"
enrol=$(curl -fs -c "$jar" -b "$jar" "$base/account/mfa?next=/admin")
secret=$(echo "$enrol" | sed -nE 's/.*id="mfa-secret">([A-Z2-7=]+)<.*/\1/p' | head -1)
[ -n "$secret" ] || { echo "a11y: no TOTP secret on the enrolment page" >&2; exit 2; }
token=$(echo "$enrol" | csrf)
curl -fs -c "$jar" -b "$jar" -o /dev/null -X POST "$base/account/mfa" --data-urlencode "code=$(node bench/a11y/totp.mjs "$secret")" \
  --data-urlencode "csrf_token=$token" --data-urlencode "next=/admin"
admin_status=$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' "$base/admin")
[ "$admin_status" = 200 ] || { echo "a11y: the admin session does not open /admin ($admin_status)" >&2; exit 2; }
# The jar's cookies (HttpOnly ones are prefixed #HttpOnly_) as [{name, value, path}].
admin_cookies=$(awk -F'\t' 'NF == 7 && ($1 ~ /^#HttpOnly_/ || $1 !~ /^#/) {print $3 "\t" $6 "\t" $7}' "$jar" \
  | jq -Rn '[inputs | split("\t") | {path: .[0], name: .[1], value: .[2]}]')

# The pages: name, URL pattern, URL, cookies, and for checkout the form to submit.
pages="$data/pages.json"
jq -n --arg base "$base" --arg plan "$plan" --arg ready "$ready_id" --arg ready_token "$ready_token" \
  --arg preparing "$preparing_id" --arg preparing_token "$preparing_token" --argjson admin "$admin_cookies" '
  def order($id; $token): [{name: "tern_order", value: $token, path: "/orders/\($id)"}];
  [
    {name: "Home", pattern: "/", url: "\($base)/"},
    {name: "Search results", pattern: "/destinations?q=japan", url: "\($base)/destinations?q=japan"},
    {name: "Destination", pattern: "/destinations/{iso}", url: "\($base)/destinations/jp"},
    {name: "Plan", pattern: "/plans/{id}", url: "\($base)/plans/\($plan)"},
    {name: "Checkout with errors", pattern: "POST /plans/{id}/checkout", url: "\($base)/plans/\($plan)/checkout",
     form: {fill: {"#email": "not-an-email"}, submit: "form.checkout-form button[type=submit]"}},
    {name: "Order preparing", pattern: "/orders/{id}", url: "\($base)/orders/\($preparing)",
     cookies: order($preparing; $preparing_token)},
    {name: "Order ready", pattern: "/orders/{id}", url: "\($base)/orders/\($ready)", cookies: order($ready; $ready_token)},
    {name: "Find my order", pattern: "/orders/find", url: "\($base)/orders/find"},
    {name: "Sign in", pattern: "/account/sign-in", url: "\($base)/account/sign-in"},
    {name: "Help", pattern: "/help", url: "\($base)/help"},
    {name: "Admin dashboard", pattern: "/admin", url: "\($base)/admin", cookies: $admin},
    {name: "Admin orders", pattern: "/admin/orders", url: "\($base)/admin/orders", cookies: $admin},
    {name: "Admin order", pattern: "/admin/orders/{id}", url: "\($base)/admin/orders/\($ready)", cookies: $admin},
    {name: "Admin catalogue", pattern: "/admin/catalogue", url: "\($base)/admin/catalogue", cookies: $admin},
    {name: "Admin plan edit", pattern: "/admin/plans/{id}/edit", url: "\($base)/admin/plans/\($plan)/edit", cookies: $admin},
    {name: "API docs", pattern: "/api/v1/docs", url: "\($base)/api/v1/docs"}
  ]' >"$pages"

home_bytes=$(curl -fs -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$base/")
results="$data/results.json"
node bench/a11y/audit.mjs "$pages" "$results"
# The order pages must have shown what they are named for.
jq -r '.results[] | select(.name | startswith("Order ")) | "\(.name): \(.heading // "no h1")"' "$results" >&2
cp "$results" "${A11Y_RESULTS:-/tmp/tern-a11y-results.json}"

status=0
table=$(node bench/a11y/report.mjs "$results" "$home_bytes" "$(date -u '+%Y-%m-%d %H:%M UTC')") || status=$?
echo "$table"
if [ -n "${A11Y_ONLY:-}" ]; then
  echo "a11y: A11Y_ONLY is set: $doc is left as it is" >&2
  exit $status
fi
[ -f "$doc" ] || printf '# Accessibility and page quality\n\n<!-- a11y:begin -->\n<!-- a11y:end -->\n' >"$doc"
TABLE="$table" perl -0pi -e 's/(<!-- a11y:begin -->\n).*?(<!-- a11y:end -->)/$1$ENV{TABLE}\n$2/s' "$doc"
exit $status
