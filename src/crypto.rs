//! Encryption at rest (activation codes, kept API answers and any other sealed column):
//! AES-256-GCM, a fresh nonce per value, associated data binding a value to its row (a
//! ciphertext copied to another order does not decrypt), and key rotation: every ciphertext
//! names the key that sealed it, the first key of `TERN_SECRET_KEYS` seals, all of them open.
//! Also the keyed MACs of values that must not be forged (an order page's access cookie).

use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;
/// Versioned ciphertexts start with this: `T1` ‖ key id (4 bytes) ‖ nonce ‖ ciphertext. Older
/// ones (before rotation existed) are nonce ‖ ciphertext, and are still read.
const MAGIC: &[u8; 2] = b"T1";
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN;

/// A key's version as ciphertexts carry it: the first 4 bytes of SHA-256("tern-key-id" ‖ key),
/// so it does not depend on where the key sits in the list.
pub type KeyId = [u8; KEY_ID_LEN];

struct SecretKey {
    id: KeyId,
    bytes: SecretSlice<u8>,
}

impl SecretKey {
    fn aead(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.bytes.expose_secret()))
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        // A key of its own for MACs, derived from the encryption key.
        let derived = Sha256::new().chain_update(b"tern-mac-key").chain_update(self.bytes.expose_secret()).finalize();
        let mut mac = Hmac::<Sha256>::new_from_slice(&derived).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// The keys, never printed. The first one seals; every one opens.
#[derive(Clone)]
pub struct Cipher {
    keys: Arc<Vec<SecretKey>>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("each key must be 32 bytes, base64-encoded (keys separated by commas)")]
    BadKey,
    #[error("the stored value cannot be decrypted with these keys")]
    Undecryptable,
}

fn key_from_base64(encoded: &str) -> Result<SecretKey, CryptoError> {
    let bytes = STANDARD.decode(encoded.trim()).map_err(|_| CryptoError::BadKey)?;
    if bytes.len() != 32 {
        return Err(CryptoError::BadKey);
    }
    let digest = Sha256::new().chain_update(b"tern-key-id").chain_update(&bytes).finalize();
    let id = [digest[0], digest[1], digest[2], digest[3]];
    Ok(SecretKey { id, bytes: bytes.into() })
}

impl Cipher {
    /// From one key: 32 bytes encoded as standard base64.
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        Self::from_keys(encoded)
    }

    /// From `TERN_SECRET_KEYS`: base64 keys separated by commas or whitespace, the new one first.
    pub fn from_keys(list: &str) -> Result<Self, CryptoError> {
        let keys = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|k| !k.is_empty())
            .map(key_from_base64)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(CryptoError::BadKey);
        }
        Ok(Self { keys: Arc::new(keys) })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        STANDARD.encode(key)
    }

    fn current(&self) -> &SecretKey {
        &self.keys[0]
    }

    /// The version new ciphertexts carry.
    pub fn current_key_id(&self) -> KeyId {
        self.current().id
    }

    /// The first bytes of every value the current key seals (`T1` ‖ key id): what a query
    /// compares to find values still to rotate.
    pub fn current_header(&self) -> Vec<u8> {
        [MAGIC.as_slice(), &self.current().id].concat()
    }

    /// `T1` ‖ key id ‖ nonce ‖ ciphertext, sealed with the first key.
    pub fn encrypt(&self, plaintext: &str, associated: &[u8]) -> Vec<u8> {
        self.seal(plaintext.as_bytes(), associated)
    }

    /// As [`Self::encrypt`], for bytes.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Vec<u8> {
        let key = self.current();
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = key
            .aead()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: associated })
            .expect("AES-GCM encryption of a short value cannot fail");
        [MAGIC.as_slice(), &key.id, &nonce, &ciphertext].concat()
    }

    pub fn decrypt(&self, stored: &[u8], associated: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(self.open(stored, associated)?).map_err(|_| CryptoError::Undecryptable)
    }

    /// As [`Self::decrypt`], for bytes.
    pub fn open(&self, stored: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if let Some(id) = key_id(stored)
            && let Some(key) = self.keys.iter().find(|k| k.id == id)
            && let Ok(plain) = open_with(key, &stored[HEADER_LEN..], associated)
        {
            return Ok(plain);
        }
        // A value sealed before keys had versions (or a legacy nonce that happened to start
        // like a header): try every key.
        self.keys.iter().find_map(|k| open_with(k, stored, associated).ok()).ok_or(CryptoError::Undecryptable)
    }

    /// Whether `stored` is sealed with the current key (nothing to rotate).
    pub fn is_current(&self, stored: &[u8]) -> bool {
        key_id(stored) == Some(self.current().id)
    }

    /// `stored` sealed again with the current key; `None` when it already is.
    pub fn reseal(&self, stored: &[u8], associated: &[u8]) -> Result<Option<Vec<u8>>, CryptoError> {
        if self.is_current(stored) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(stored, associated)?, associated)))
    }

    /// A MAC of `data` under the current key.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        self.current().mac(data)
    }

    /// Whether `tag` is the MAC of `data` under any of the keys (in constant time per key).
    pub fn verify_mac(&self, data: &[u8], tag: &[u8]) -> bool {
        self.keys.iter().any(|k| crate::domain::token::digests_equal(&k.mac(data), tag))
    }
}

/// The key id a versioned ciphertext names.
pub fn key_id(stored: &[u8]) -> Option<KeyId> {
    if stored.len() < HEADER_LEN + NONCE_LEN || &stored[..MAGIC.len()] != MAGIC {
        return None;
    }
    stored[MAGIC.len()..HEADER_LEN].try_into().ok()
}

fn open_with(key: &SecretKey, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Undecryptable);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    key.aead()
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: associated })
        .map_err(|_| CryptoError::Undecryptable)
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
        assert!(Cipher::from_keys("").is_err());
        assert!(Cipher::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(format!("{:?}", Cipher::from_base64(&STANDARD.encode([7u8; 32])).unwrap()) == "Cipher(..)");
    }

    #[test]
    fn ciphertexts_carry_their_key_version_and_old_keys_still_open() {
        let (old, new) = (Cipher::generate_key(), Cipher::generate_key());
        let before = Cipher::from_keys(&old).unwrap();
        let sealed = before.encrypt("secret", b"row");
        assert_eq!(key_id(&sealed), Some(before.current_key_id()));
        let after = Cipher::from_keys(&format!("{new}, {old}")).unwrap();
        assert!(!after.is_current(&sealed));
        assert_eq!(after.decrypt(&sealed, b"row").unwrap(), "secret", "the old key still opens");
        let resealed = after.reseal(&sealed, b"row").unwrap().expect("re-sealed with the new key");
        assert!(after.is_current(&resealed));
        assert!(after.reseal(&resealed, b"row").unwrap().is_none(), "nothing to do twice");
        assert!(before.decrypt(&resealed, b"row").is_err(), "the old key alone no longer opens it");
        assert_eq!(Cipher::from_keys(&new).unwrap().decrypt(&resealed, b"row").unwrap(), "secret");
    }

    #[test]
    fn unversioned_ciphertexts_from_before_rotation_are_read() {
        let key = Cipher::generate_key();
        let cipher = Cipher::from_keys(&key).unwrap();
        // The format before versions: nonce ‖ ciphertext.
        let legacy = open_legacy_format(&cipher, "LPA:1$a$b");
        assert_eq!(cipher.decrypt(&legacy, b"o").unwrap(), "LPA:1$a$b");
        assert!(!cipher.is_current(&legacy));
    }

    fn open_legacy_format(cipher: &Cipher, plain: &str) -> Vec<u8> {
        let nonce = [9u8; NONCE_LEN];
        let ct = cipher
            .current()
            .aead()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: b"o" })
            .unwrap();
        [nonce.as_slice(), &ct].concat()
    }

    #[test]
    fn macs_verify_under_any_key_and_not_for_other_data() {
        let (old, new) = (Cipher::generate_key(), Cipher::generate_key());
        let tag = Cipher::from_keys(&old).unwrap().mac(b"order-1");
        let both = Cipher::from_keys(&format!("{new},{old}")).unwrap();
        assert!(both.verify_mac(b"order-1", &tag));
        assert!(!both.verify_mac(b"order-2", &tag));
        assert!(!Cipher::from_keys(&new).unwrap().verify_mac(b"order-1", &tag));
    }
}
