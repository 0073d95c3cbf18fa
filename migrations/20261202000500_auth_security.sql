-- Sign-in security (ASVS V2, V3): staff TOTP secrets and recovery codes, and the signed-in
-- sessions with their lifetimes, second-factor time and revocation ("sign out everywhere").

-- One TOTP secret per user, encrypted with crypto::Cipher (bound to the user id), never in
-- the clear. A secret being enrolled has no enabled_at yet.
create table user_mfa (
    user_id    uuid primary key references users (id) on delete cascade,
    secret_enc bytea not null,
    enabled_at timestamptz,
    -- The last TOTP time step accepted: a code is accepted once.
    last_step  bigint not null default 0,
    created_at timestamptz not null default now()
);

-- Ten single-use recovery codes per enrolment, stored as SHA-256 (they are 80 random bits).
create table mfa_recovery_codes (
    id          bigint generated always as identity primary key,
    user_id     uuid not null references users (id) on delete cascade,
    code_sha256 bytea not null check (length(code_sha256) = 32),
    used_at     timestamptz,
    unique (user_id, code_sha256)
);

-- Every sign-in: the browser session holds only this row's id. Idle and absolute lifetimes
-- are judged from these times; revoking a row ends that session wherever it is.
create table user_sessions (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    created_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    -- When the second factor was last checked (sign-in or re-authentication).
    mfa_at       timestamptz,
    revoked_at   timestamptz
);
create index user_sessions_user_idx on user_sessions (user_id) where revoked_at is null;
