//! Registry webhooks: every replica runs a worker that claims due deliveries, posts them
//! with an HMAC-SHA256 signature, and retries failures with exponential backoff.
//!
//! Receivers check `X-Orrery-Signature-256`, which is `sha256=` followed by the hex HMAC of
//! the raw request body keyed with the webhook's secret.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;

/// Attempts before a delivery is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed delivery stays reserved for the replica that claimed it.
const LEASE_MS: i64 = 60_000;

/// Events a webhook can subscribe to.
pub const EVENTS: [&str; 5] = ["version_created", "request_created", "request_approved", "request_rejected", "alias_moved"];

/// Signs `body` with HMAC-SHA256 and returns the signature header value.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Returns the delay before attempt `attempts + 1`: `base_ms`, doubled after each failure.
pub fn backoff_ms(base_ms: i64, attempts: i64) -> i64 {
    base_ms.saturating_mul(1_i64 << attempts.clamp(0, 20))
}

/// Sends every due delivery once; returns how many were attempted.
pub async fn deliver_due(db: &Db, client: &reqwest::Client, retry_base_ms: i64) -> Result<usize, sqlx::Error> {
    let claimed = db.claim_deliveries(20, LEASE_MS).await?;
    let attempts = claimed.len();
    let sends = claimed.into_iter().map(|(id, url, secret, event, payload, attempts)| {
        let client = client.clone();
        async move {
            let result = client
                .post(&url)
                .header("content-type", "application/json")
                .header("user-agent", "Orrery-Webhook")
                .header("x-orrery-event", &event)
                .header("x-orrery-delivery", id.to_string())
                .header("x-orrery-signature-256", signature(&secret, payload.as_bytes()))
                .body(payload)
                .send()
                .await;
            let (delivered, status, error) = match result {
                Ok(response) if response.status().is_success() => (true, Some(i64::from(response.status().as_u16())), String::new()),
                Ok(response) => {
                    let status = response.status();
                    (false, Some(i64::from(status.as_u16())), format!("the receiver answered {status}"))
                }
                Err(error) => (false, None, format!("could not reach the receiver: {error}")),
            };
            let next = if delivered || attempts + 1 >= MAX_ATTEMPTS {
                None
            } else {
                Some(crate::db::now_ms() + backoff_ms(retry_base_ms, attempts))
            };
            (id, delivered, status, error, next)
        }
    });
    for (id, delivered, status, error, next) in futures::future::join_all(sends).await {
        db.finish_delivery(id, delivered, status, &error, next).await?;
    }
    Ok(attempts)
}

/// Runs [`deliver_due`] until the process stops.
pub fn spawn_worker(db: Db, retry_base_ms: i64) {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client builds");
        loop {
            match deliver_due(&db, &client, retry_base_ms).await {
                Ok(0) => tokio::time::sleep(Duration::from_millis(500)).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "webhook delivery failed to update the database");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_rfc_4231_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles() {
        assert_eq!((backoff_ms(1000, 0), backoff_ms(1000, 1), backoff_ms(1000, 3)), (1000, 2000, 8000));
    }
}
