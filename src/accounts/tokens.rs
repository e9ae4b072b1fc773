//! Personal API tokens and CSRF tokens: random secrets, of which API tokens are stored only
//! as SHA-256 hashes.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every API token starts with this, so secret scanners and people can recognise one.
pub const API_TOKEN_PREFIX: &str = "orr_";

/// Returns 32 random bytes as lowercase hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new API token: the secret shown once, its hash to store, and a short prefix to list.
pub struct NewApiToken {
    pub secret: String,
    pub hash: String,
    pub display_prefix: String,
}

pub fn new_api_token() -> NewApiToken {
    let secret = format!("{API_TOKEN_PREFIX}{}", random_secret());
    NewApiToken {
        hash: hash_token(&secret),
        display_prefix: secret[..API_TOKEN_PREFIX.len() + 6].to_string(),
        secret,
    }
}

/// SHA-256 suffices here because tokens carry 256 random bits, so no slow hash is needed.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time that depends only on their lengths.
pub fn constant_time_eq(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left.bytes().zip(right.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_token_hash_matches_secret() {
        let token = new_api_token();
        assert!(token.secret.starts_with("orr_"));
        assert_eq!(token.secret.len(), 4 + 64);
        assert_eq!(token.hash, hash_token(&token.secret));
        assert!(token.secret.starts_with(&token.display_prefix));
    }

    #[test]
    fn constant_time_eq_compares_content() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
