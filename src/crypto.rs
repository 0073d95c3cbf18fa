//! Encryption at rest for activation codes: AES-256-GCM, a fresh nonce per value, the order id
//! as associated data (a ciphertext copied to another order does not decrypt).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};

const NONCE_LEN: usize = 12;

/// The key, never printed.
#[derive(Clone)]
pub struct Cipher {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the stored value cannot be decrypted with this key")]
    Undecryptable,
}

impl Cipher {
    /// From 32 key bytes encoded as standard base64 (`TERN_SECRET_KEY`).
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| CryptoError::BadKey)?;
        if bytes.len() != 32 {
            return Err(CryptoError::BadKey);
        }
        Ok(Self { key: bytes.into() })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    fn aead(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.expose_secret()))
    }

    /// nonce ‖ ciphertext.
    pub fn encrypt(&self, plaintext: &str, associated: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .aead()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: associated })
            .expect("AES-GCM encryption of a short value cannot fail");
        [nonce.as_slice(), &ciphertext].concat()
    }

    pub fn decrypt(&self, stored: &[u8], associated: &[u8]) -> Result<String, CryptoError> {
        if stored.len() < NONCE_LEN {
            return Err(CryptoError::Undecryptable);
        }
        let (nonce, ciphertext) = stored.split_at(NONCE_LEN);
        let plaintext = self
            .aead()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: associated })
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_to_the_associated_data() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let stored = cipher.encrypt("LPA:1$smdp.tern.test$TN-1", b"order-1");
        assert!(!stored.windows(4).any(|w| w == b"LPA:"), "not stored in the clear");
        assert_eq!(cipher.decrypt(&stored, b"order-1").unwrap(), "LPA:1$smdp.tern.test$TN-1");
        assert!(cipher.decrypt(&stored, b"order-2").is_err(), "bound to its order");
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert!(other.decrypt(&stored, b"order-1").is_err(), "another key cannot read it");
        assert_ne!(cipher.encrypt("x", b""), cipher.encrypt("x", b""), "fresh nonce each time");
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(Cipher::from_base64("short").is_err());
        assert!(Cipher::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(format!("{:?}", Cipher::from_base64(&STANDARD.encode([7u8; 32])).unwrap()) == "Cipher(..)");
    }
}
