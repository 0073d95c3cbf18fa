//! Staff second factor (ASVS V2.7, V2.8): TOTP (RFC 6238, `totp-rs`) with the secret encrypted
//! at rest by `crypto::Cipher` (bound to the user) and each code accepted once; ten single-use
//! recovery codes stored as SHA-256; failed codes slowed down like passwords; the CLI's reset.

use rand::RngCore;
use totp_rs::{Algorithm, Secret, Totp};

use crate::crypto::Cipher;
use crate::db;
use crate::db::Pool;
use crate::db::users::AuditEntry;
use crate::domain::Email;
use crate::domain::token;
use crate::domain::user::User;
use crate::error::{Error, Result};
use crate::services::accounts;

/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Tern";
const WRONG_CODE: &str = "That code is not right. Enter the 6 digits your app shows now, or a recovery code.";

/// What the enrolment page shows: the secret for manual entry and the `otpauth://` link its QR
/// code holds. Never logged.
pub struct Enrolment {
    pub secret: String,
    pub otpauth_url: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(..)")
    }
}

fn associated(user: &User) -> Vec<u8> {
    format!("mfa:{}", user.id).into_bytes()
}

fn totp(user: &User, secret: Vec<u8>) -> Result<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_secret(Secret::from(secret))
        .with_issuer(Some(ISSUER))
        .with_account_name(user.email.replace(':', ""))
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP: {e}")))
}

async fn stored_totp(pool: &Pool, cipher: &Cipher, user: &User) -> Result<Option<(Totp, bool)>> {
    let Some(stored) = db::mfa::find(pool, user.id).await? else { return Ok(None) };
    let base32 = cipher
        .decrypt(&stored.secret_enc, &associated(user))
        .map_err(|e| Error::Internal(anyhow::anyhow!("MFA secret: {e}")))?;
    let secret = Secret::try_from_base32(&base32).map_err(|e| Error::Internal(anyhow::anyhow!("MFA secret: {e}")))?;
    Ok(Some((totp(user, secret.as_bytes().to_vec())?, stored.enabled)))
}

/// Whether the user finished enrolment.
pub async fn is_enrolled(pool: &Pool, user: &User) -> Result<bool> {
    Ok(db::mfa::find(pool, user.id).await?.is_some_and(|s| s.enabled))
}

/// The enrolment under way (a new secret the first time); `None` once enrolled.
pub async fn enrolment(pool: &Pool, cipher: &Cipher, user: &User) -> Result<Option<Enrolment>> {
    let totp = match stored_totp(pool, cipher, user).await? {
        Some((_, true)) => return Ok(None),
        Some((totp, false)) => totp,
        None => {
            let mut bytes = [0u8; 20];
            rand::rng().fill_bytes(&mut bytes);
            let totp = totp(user, bytes.to_vec())?;
            db::mfa::begin(pool, user.id, &cipher.encrypt(&totp.secret().to_base32(), &associated(user))).await?;
            totp
        }
    };
    let otpauth_url = totp.to_url().map_err(|e| Error::Internal(anyhow::anyhow!("TOTP: {e}")))?;
    Ok(Some(Enrolment { secret: totp.secret().to_base32(), otpauth_url }))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn normalise(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

/// Checks a TOTP code, or (once enrolled) a recovery code; slowed down after failures.
async fn check(pool: &Pool, cipher: &Cipher, user: &User, ip: Option<&str>, code: &str, enrolled: bool) -> Result<()> {
    let key = format!("mfa:{}", user.id);
    accounts::check_slowdown(pool, &key).await?;
    let code = normalise(code);
    let ok = match stored_totp(pool, cipher, user).await? {
        Some((totp, enabled)) if enabled == enrolled => {
            if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
                match totp.check(&code, unix_now()) {
                    Some(step) => db::mfa::use_step(pool, user.id, step as i64).await?,
                    None => false,
                }
            } else {
                enrolled && db::mfa::use_recovery_code(pool, user.id, &token::digest(&code)).await?
            }
        }
        _ => false,
    };
    if !ok {
        accounts::record_failure(pool, std::slice::from_ref(&key), Some(user), ip, "mfa_failed").await?;
        return Err(Error::invalid("code", WRONG_CODE));
    }
    accounts::clear_failures(pool, &key).await?;
    Ok(())
}

/// Finishes enrolment with a first code: the recovery codes, shown once.
pub async fn confirm_enrolment(
    pool: &Pool,
    cipher: &Cipher,
    user: &User,
    ip: Option<&str>,
    code: &str,
) -> Result<Vec<String>> {
    check(pool, cipher, user, ip, code, false).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let digests: Vec<Vec<u8>> = codes.iter().map(|c| token::digest(&normalise(c)).to_vec()).collect();
    let mut tx = pool.begin().await?;
    db::mfa::enable(&mut *tx, user.id).await?;
    db::mfa::set_recovery_codes(&mut *tx, user.id, &digests).await?;
    db::users::audit(&mut *tx, entry(user, "mfa_enrolled", ip)).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Checks an enrolled user's code (sign-in's second step, or re-authentication).
pub async fn verify(pool: &Pool, cipher: &Cipher, user: &User, ip: Option<&str>, code: &str) -> Result<()> {
    check(pool, cipher, user, ip, code, true).await?;
    Ok(db::users::audit(pool, entry(user, "mfa_verified", ip)).await?)
}

/// 80 random bits as four groups of four base32 letters: `abcd-efgh-ijkl-mnop`.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let letters: Vec<char> = bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect();
    letters.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn entry<'a>(user: &'a User, action: &'a str, ip: Option<&str>) -> AuditEntry<'a> {
    AuditEntry { user: Some(user), action, target: None, details: serde_json::json!({}), ip: ip.map(String::from) }
}

/// `tern admin reset-mfa`: forgets the user's second factor and ends their sessions; they
/// enrol again at their next sign-in.
pub async fn reset(pool: &Pool, email: &str) -> Result<User> {
    let email = Email::parse(email).map_err(|m| Error::invalid("email", m))?;
    let (user, _) = db::users::find_with_hash(pool, email.as_str()).await?.ok_or(Error::NotFound("user"))?;
    let mut tx = pool.begin().await?;
    db::mfa::reset(&mut *tx, user.id).await?;
    db::logins::revoke_all(&mut *tx, user.id).await?;
    let entry = AuditEntry {
        user: None,
        action: "mfa_reset",
        target: Some(user.email.clone()),
        details: serde_json::json!({ "via": "cli" }),
        ip: None,
    };
    db::users::audit(&mut *tx, entry).await?;
    tx.commit().await?;
    Ok(user)
}
