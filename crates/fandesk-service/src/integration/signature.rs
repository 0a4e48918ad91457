//! The one signature of everything fandesk posts to a receiver — event webhooks and the
//! weekly report alike (docs/api.md › Webhooks): `X-Fandesk-Signature: sha256=<hex
//! HMAC-SHA256(secret, "{timestamp}.{body}")>`, with the Unix-seconds timestamp sent as
//! `X-Fandesk-Timestamp`. The timestamp is signed too, so a receiver that refuses old
//! timestamps refuses replays.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `"{timestamp}.{body}"`).
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
