#!/usr/bin/env bash
# The docs/DEPLOY.md rehearsal on one machine, scripted: an external PostgreSQL cluster (as the
# postgres user), `tern emulators` for Stripe and Telnyx, an aiosmtpd sink (SMTP=path to a python
# with aiosmtpd), nginx in front of two TERN_ENV=production instances; six orders through the proxy,
# then a SIGTERM drain of one instance under traffic. Needs root (for su postgres), nginx, bc.
#   bench/rehearse-deploy.sh target/debug/tern
set -u
BIN=$1; R=/tmp/rehearse2; rm -rf $R; mkdir -p $R; chown postgres $R
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $R/pg -U postgres --auth=trust" >/dev/null
su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $R/pg -o '-p 5499 -k $R -c listen_addresses=127.0.0.1' -l $R/pg.log start" >/dev/null
su postgres -c "psql -q -h $R -p 5499 -U postgres -c \"create role tern login password 'tern-db-pass'\" -c 'create database tern owner tern'"
$BIN emulators --stripe-port 12211 --telnyx-port 12212 > $R/emulators.txt 2>&1 &
${SMTP_PYTHON:-python3} -m aiosmtpd -n -l 127.0.0.1:2525 > $R/smtp.txt 2>&1 &
sleep 2
export TERN_ENV=production DATABASE_URL='postgres://tern:tern-db-pass@127.0.0.1:5499/tern' TERN_PUBLIC_URL='http://127.0.0.1:8088'
export TERN_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
export STRIPE_SECRET_KEY=sk_test_tern_emulator STRIPE_WEBHOOK_SECRET=whsec_tern_emulator STRIPE_API_BASE=http://127.0.0.1:12211/
export TELNYX_API_KEY=KEY_tern_emulator TELNYX_API_BASE=http://127.0.0.1:12212/v2
export SMTP_URL='smtp://127.0.0.1:2525' MAIL_FROM='Tern <hello@tern.example>' SUPPORT_EMAIL=support@tern.example
export TERN_TRUSTED_PROXIES=127.0.0.1/32 TERN_LOG_FORMAT=json TERN_SHUTDOWN_DRAIN_SECONDS=2
start=$(date +%s.%N)
for n in 1 2; do TERN_ADDR=127.0.0.1:808$n TERN_METRICS_ADDR=127.0.0.1:909$n TERN_DATA_DIR=$R/data$n $BIN > $R/tern$n.log 2>&1 & done
for n in 1 2; do for _ in $(seq 1 300); do curl -fs http://127.0.0.1:808$n/readyz >/dev/null && break; sleep 0.1; done; done
echo "both ready after $(echo "$(date +%s.%N) - $start" | bc) s"
cat > $R/nginx.conf <<NGINX
worker_processes 1;
pid $R/nginx.pid;
error_log $R/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $R/nginx-access.log;
    upstream tern {
        server 127.0.0.1:8081 max_fails=2 fail_timeout=5s;
        server 127.0.0.1:8082 max_fails=2 fail_timeout=5s;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:8088;
        client_max_body_size 64k;
        location / {
            proxy_pass http://tern;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto http;
        }
    }
}
NGINX
nginx -c $R/nginx.conf
tok=$(grep -A3 'Stripe emulator' $R/emulators.txt | grep 'control token' | awk '{print $3}')
curl -s -o /dev/null -X POST http://127.0.0.1:12211/_emulator/webhooks/url -H "X-Emulator-Token: $tok" -H 'content-type: application/json' -d '{"url":"http://127.0.0.1:8088/webhooks/stripe"}'
plan=$(curl -s 'http://127.0.0.1:8088/api/v1/plans?per_page=1' | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"][0]["id"])')
for i in 1 2 3 4 5 6; do
  r=$(curl -s -X POST http://127.0.0.1:8088/api/v1/orders -H "Idempotency-Key: $(cat /proc/sys/kernel/random/uuid)" -H 'content-type: application/json' -d "{\"plan_id\":\"$plan\",\"email\":\"rehearsal$i@example.com\"}")
  sess=$(echo "$r" | python3 -c 'import json,sys;print(json.load(sys.stdin)["checkout_url"].rsplit("/",1)[1])')
  curl -s -o /dev/null -X POST "http://127.0.0.1:12211/_emulator/sessions/$sess/pay" -H "X-Emulator-Token: $tok"
done
sleep 5
su postgres -c "psql -h $R -p 5499 -U postgres -d tern -Atc 'select status, count(*) from orders group by 1'"
for n in 1 2; do echo "instance $n: requests $(grep -c '"http.route"' $R/tern$n.log), job lines $(grep -c '"name":"job"' $R/tern$n.log)"; done
echo "messages at the SMTP sink: $(grep -c 'rehearsal' $R/smtp.txt)"
p1=$(ss -ltnp | grep '127.0.0.1:8081 ' | sed -E 's/.*pid=([0-9]+).*/\1/'); kill -TERM $p1; sleep 0.3
codes=$(for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null -w "%{http_code} " http://127.0.0.1:8088/destinations/jp; done); echo "through nginx while instance 1 drains: $codes"
sleep 3
for port in 8082 12211 2525; do pid=$(ss -ltnp | grep "127.0.0.1:$port " | sed -E 's/.*pid=([0-9]+).*/\1/' | head -1); [ -n "$pid" ] && kill -INT $pid; done
nginx -c $R/nginx.conf -s stop; su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $R/pg stop -m fast" >/dev/null; echo done
