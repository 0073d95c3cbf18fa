"""Schemathesis hooks for bench/fuzz-api.sh.

An Idempotency-Key names one intended order: the same key with another body is refused
(422 `idempotency_key_reused`), which is the contract, not a schema violation. The fuzzer
draws few distinct keys, so every valid key it draws is made unique here; invalid keys
(empty, too long, control characters) are sent as drawn.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and len(key) <= 255 and VALID_KEY.match(key):
        headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4()}"
