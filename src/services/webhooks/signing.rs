//! Standard Webhooks signing: endpoint secrets (`whsec_` + base64 of 32 random bytes, sealed at
//! rest bound to their endpoint), and the `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` headers of a delivery, signed with the `standardwebhooks` crate. During
//! a rotation's overlap the signature header carries both signatures, space-separated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::crypto::Cipher;
use crate::error::{Error, Result};

/// How long the secret before a rotation still signs deliveries.
pub const ROTATION_OVERLAP: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A new endpoint secret.
pub fn new_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SecretString::from(format!("whsec_{}", STANDARD.encode(bytes)))
}

/// The secret sealed for storage, bound to its endpoint.
pub fn seal(cipher: &Cipher, endpoint_id: Uuid, secret: &SecretString) -> Vec<u8> {
    cipher.encrypt(secret.expose_secret(), endpoint_id.as_bytes())
}

pub fn unseal(cipher: &Cipher, endpoint_id: Uuid, sealed: &[u8]) -> Result<SecretString> {
    cipher
        .decrypt(sealed, endpoint_id.as_bytes())
        .map(SecretString::from)
        .map_err(|e| Error::Internal(anyhow::anyhow!("endpoint {endpoint_id}'s secret: {e}")))
}

/// The three Standard Webhooks headers of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub id: String,
    pub timestamp: i64,
    /// `v1,<base64>`, one per secret, space-separated.
    pub signature: String,
}

/// Signs `body` as message `id` at `timestamp` with every secret given (the current one first).
pub fn sign(id: &str, timestamp: i64, body: &[u8], secrets: &[SecretString]) -> Result<Signed> {
    let mut signatures = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let webhook = standardwebhooks::Webhook::new(secret.expose_secret())
            .map_err(|e| Error::Internal(anyhow::anyhow!("an endpoint secret is not valid: {e}")))?;
        let signature =
            webhook.sign(id, timestamp, body).map_err(|e| Error::Internal(anyhow::anyhow!("signing: {e}")))?;
        signatures.push(signature);
    }
    Ok(Signed { id: id.to_string(), timestamp, signature: signatures.join(" ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(s: &Signed) -> reqwest::header::HeaderMap {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("webhook-id", s.id.parse().unwrap());
        h.insert("webhook-timestamp", s.timestamp.to_string().parse().unwrap());
        h.insert("webhook-signature", s.signature.parse().unwrap());
        h
    }

    #[test]
    fn deliveries_verify_with_each_secret_during_a_rotation() {
        let (old, new) = (new_secret(), new_secret());
        assert!(old.expose_secret().starts_with("whsec_"));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let body = br#"{"type":"ping"}"#;
        let signed = sign("evt_1", now, body, &[new.clone(), old.clone()]).unwrap();
        assert_eq!(signed.signature.split(' ').count(), 2);
        for secret in [&new, &old] {
            let verifier = standardwebhooks::Webhook::new(secret.expose_secret()).unwrap();
            verifier.verify(body, &headers(&signed)).unwrap();
        }
        let stranger = standardwebhooks::Webhook::new(new_secret().expose_secret()).unwrap();
        assert!(stranger.verify(body, &headers(&signed)).is_err());
    }

    #[test]
    fn secrets_are_sealed_to_their_endpoint() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let secret = new_secret();
        let sealed = seal(&cipher, a, &secret);
        assert!(!sealed.windows(6).any(|w| w == b"whsec_"));
        assert_eq!(unseal(&cipher, a, &sealed).unwrap().expose_secret(), secret.expose_secret());
        assert!(unseal(&cipher, b, &sealed).is_err());
    }
}
