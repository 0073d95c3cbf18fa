"""End-to-end order load for bench/orders.sh: N concurrent buyers, each looping
create (POST /api/v1/orders) -> pay (the Stripe emulator's control) -> wait
(GET /api/v1/orders/{id}?wait=20, again while the order is still in progress) until
ready, for a fixed time. Prints orders/s and the paid -> ready latency percentiles read
from each order's own event times."""

import json
import os
import sys
import threading
import time
import http.client
import urllib.parse
import uuid
from datetime import datetime

base, stripe, buyers, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
# The Stripe emulator's control token for this run (printed by `tern emulators`).
controls = {"X-Emulator-Token": os.environ["STRIPE_CONTROL_TOKEN"]}
# How long one read waits for the order to settle (the API's most is 20 s): an app asks once
# and is answered when the order is ready. Before `?wait=`, buyers polled every 100 ms, about
# 3.5 reads an order. Paid -> ready is read from the order's own event times either way.
WAIT = int(os.environ.get("WAIT_SECONDS", "20"))
IN_PROGRESS = {"awaiting_payment", "paid", "provisioning"}


local = threading.local()


def call(method, url, body=None, headers=None):
    """One request on this thread's kept-alive connection to the URL's host (a buyer's app
    keeps its connections open; a new TCP connection per request would load the 2 cores with
    handshakes, not with orders)."""
    parts = urllib.parse.urlsplit(url)
    conns = local.__dict__.setdefault("conns", {})
    data = json.dumps(body).encode() if body is not None else None
    headers = dict(headers or {})
    if data is not None:
        headers["content-type"] = "application/json"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    for attempt in (1, 2):
        conn = conns.get(parts.netloc)
        if conn is None:
            conn = conns[parts.netloc] = http.client.HTTPConnection(parts.netloc, timeout=120)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            del conns[parts.netloc]
            if attempt == 2:
                raise
            continue
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return json.loads(payload or b"null")


plan = call("GET", f"{base}/api/v1/plans?destination=jp&per_page=1")["data"][0]["id"]
stop_at = time.monotonic() + seconds
lock = threading.Lock()
latencies, done, failures = [], [0], [0]


def at(event, kind):
    for e in event:
        if e["type"] == kind:
            return datetime.fromisoformat(e["at"].replace("Z", "+00:00"))
    return None


def buyer():
    while time.monotonic() < stop_at:
        try:
            created = call("POST", f"{base}/api/v1/orders", {"plan_id": plan, "email": "bench@example.com"},
                           {"Idempotency-Key": str(uuid.uuid4())})
            session = created["checkout_url"].rsplit("/", 1)[1]
            call("POST", f"{stripe}/_emulator/sessions/{session}/pay", {}, controls)
            auth = {"Authorization": "Bearer " + created["access_token"]}
            while True:
                order = call("GET", f"{base}/api/v1/orders/{created['id']}?wait={WAIT}", headers=auth)
                if order["status"] == "ready":
                    break
                if order["status"] not in IN_PROGRESS:
                    raise RuntimeError(f"order {created['id']} ended {order['status']}")
            paid, ready = at(order["events"], "paid"), at(order["events"], "ready")
            with lock:
                done[0] += 1
                latencies.append((ready - paid).total_seconds() * 1000)
        except Exception as e:  # a failed order is counted, never hidden
            with lock:
                failures[0] += 1
            print("bench: order failed:", e, file=sys.stderr)


started = time.monotonic()
threads = [threading.Thread(target=buyer) for _ in range(buyers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
latencies.sort()


def pct(p):
    return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else float("nan")


print(f"buyers={buyers} orders={done[0]} failed={failures[0]} orders/s={done[0] / elapsed:.1f} "
      f"paid->ready p50={pct(50):.0f}ms p95={pct(95):.0f}ms p99={pct(99):.0f}ms")
