"""The kill -9 part of bench/orders.sh, in two steps around the kill.

  restart.py prepare BASE STRIPE N FILE   create and pay N orders, wait until each is
                                          provisioning, write them to FILE
  restart.py wait BASE FILE TIMEOUT        started right after the restart: poll until every
                                          order in FILE is ready; print the seconds from this
                                          start to the server answering and to the last ready"""

import json
import os
import sys
import time
import urllib.request
import uuid


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def status(base, order):
    auth = {"Authorization": "Bearer " + order["token"]}
    return call("GET", f"{base}/api/v1/orders/{order['id']}", headers=auth)["status"]


def prepare(base, stripe, n, path):
    plan = call("GET", f"{base}/api/v1/plans?destination=jp&per_page=1")["data"][0]["id"]
    orders = []
    for _ in range(n):
        created = call("POST", f"{base}/api/v1/orders", {"plan_id": plan, "email": "bench@example.com"},
                       {"Idempotency-Key": str(uuid.uuid4())})
        call("POST", f"{stripe}/_emulator/sessions/{created['checkout_url'].rsplit('/', 1)[1]}/pay", {},
             {"X-Emulator-Token": os.environ["STRIPE_CONTROL_TOKEN"]})
        orders.append({"id": created["id"], "token": created["access_token"]})
    deadline = time.monotonic() + 60
    for order in orders:
        while status(base, order) != "provisioning":
            if time.monotonic() > deadline:
                sys.exit(f"restart.py: order {order['id']} never started provisioning")
            time.sleep(0.05)
    with open(path, "w") as f:
        json.dump(orders, f)
    print(f"{n} orders paid and in flight")


def wait(base, path, timeout):
    started = time.monotonic()
    orders = json.load(open(path))
    answered, pending = None, list(orders)
    while pending:
        if time.monotonic() - started > timeout:
            sys.exit(f"restart.py: {len(pending)} of {len(orders)} orders not ready {timeout:.0f} s after the restart")
        try:
            pending = [o for o in pending if status(base, o) != "ready"]
            answered = answered if answered is not None else time.monotonic() - started
        except OSError:  # not serving yet
            pass
        time.sleep(0.1)
    print(f"orders={len(orders)} serving after {answered:.1f} s, "
          f"every in-flight order ready {time.monotonic() - started:.1f} s after the restart")


if sys.argv[1] == "prepare":
    prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
else:
    wait(sys.argv[2], sys.argv[3], float(sys.argv[4]))
