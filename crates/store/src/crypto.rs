//! Encryption at rest for variable values: XChaCha20-Poly1305 with a random 24-byte nonce per
//! value, and the row's identity as associated data so a ciphertext cannot be moved to
//! another variable.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::error::StoreError;

const NONCE_LEN: usize = 24;

/// Seals and opens values with the server's secret key.
#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            aead: XChaCha20Poly1305::new(&key.into()),
        }
    }

    pub fn seal(&self, plaintext: &str, context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption only fails for messages beyond the cipher's 256 GiB bound; values are
        // capped at 8 KiB long before they get here.
        let sealed = self
            .aead
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, StoreError> {
        let corrupt = |message: &str| StoreError::Corrupt {
            message: format!("{message} ({context})"),
        };
        if sealed.len() < NONCE_LEN {
            return Err(corrupt("ciphertext too short"));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: body,
            aad: context.as_bytes(),
        };
        let plain = self
            .aead
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| corrupt("value does not decrypt with the configured secret key"))?;
        String::from_utf8(plain).map_err(|_| corrupt("value is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let cipher = Cipher::new([7; 32]);
        let sealed = cipher.seal("hunter2-secret", "p/v1");
        assert!(!sealed.windows(6).any(|w| w == b"hunter"));
        assert_eq!(cipher.open(&sealed, "p/v1").unwrap(), "hunter2-secret");
    }

    #[test]
    fn refuses_other_context_other_key_and_tampering() {
        let cipher = Cipher::new([7; 32]);
        let sealed = cipher.seal("value", "p/v1");
        assert!(cipher.open(&sealed, "p/v2").is_err());
        assert!(Cipher::new([8; 32]).open(&sealed, "p/v1").is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(cipher.open(&tampered, "p/v1").is_err());
        assert!(cipher.open(&sealed[..10], "p/v1").is_err());
    }

    #[test]
    fn same_value_seals_differently_each_time() {
        let cipher = Cipher::new([1; 32]);
        assert_ne!(cipher.seal("x", "c"), cipher.seal("x", "c"));
    }
}
