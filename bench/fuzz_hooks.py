"""Schemathesis hooks for bench/fuzz-api.sh.

An Idempotency-Key names one intended order: the same key with another body is refused
(422 `idempotency_key_reused`), which is the contract, not a schema violation. The fuzzer
draws few distinct keys, so every valid key it draws is made unique here; invalid keys
(empty, too long, control characters) are sent as drawn.

A webhook endpoint's URL must reach a public address (the SSRF guard resolves its host and
refuses loopback, private, link-local and metadata addresses, and names that do not resolve):
a rule about the network, which no schema can state. A schema-valid URL the fuzzer draws
(`https?://` and no spaces or control characters) is pointed at a loopback address, which
development allows; malformed URLs are sent as drawn.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$")
VALID_URL = re.compile(r"^https?://[^\x00-\x20\x7F-\x9F]+$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and len(key) <= 255 and VALID_KEY.match(key):
        headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4()}"
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str) and len(body["url"]) <= 2048:
        if VALID_URL.match(body["url"]):
            body["url"] = f"http://127.0.0.1:9/fuzz/{uuid.uuid4()}"
