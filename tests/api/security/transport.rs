//! ASVS V8, V14, V6 and V4.2: headers, tokens out of URLs and caches, idempotency, key rotation.
