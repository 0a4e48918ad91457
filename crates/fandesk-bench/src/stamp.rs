//! Send timestamps carried inside message bodies, so any process on this machine can
//! measure send → receive latency: a body starts with `t=<µs since the epoch> i=<index> `.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch (the wall clock every process on the box shares).
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A message body of at least `len` bytes stamped with the current time and `index`.
pub fn body(index: u64, len: usize) -> String {
    let mut text = format!("t={} i={index} ", now_us());
    while text.len() < len {
        text.push('x');
    }
    text
}

/// Parses `t=<digits> i=<digits>` at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Option<(u64, u64)> {
    let rest = bytes.strip_prefix(b"t=")?;
    let (t, used) = digits(rest)?;
    let rest = rest.get(used..)?.strip_prefix(b" i=")?;
    let (i, _) = digits(rest)?;
    Some((t, i))
}

/// Finds the first stamp anywhere in `bytes` (for JSON frames where the body is nested).
pub fn find(bytes: &[u8]) -> Option<(u64, u64)> {
    let mut from = 0;
    while let Some(offset) = bytes.get(from..)?.windows(2).position(|w| w == b"t=") {
        let at = from + offset;
        if let Some(stamp) = parse(&bytes[at..]) {
            return Some(stamp);
        }
        from = at + 2;
    }
    None
}

fn digits(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    let mut used = 0;
    for &b in bytes.iter().take(20) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        used += 1;
    }
    (used > 0).then_some((value, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text = body(42, 64);
        assert!(text.len() >= 64);
        let (t, i) = parse(text.as_bytes()).unwrap();
        assert_eq!(i, 42);
        assert!(t > 1_600_000_000_000_000);
        let nested = format!(r#"{{"type":"event","body":"{text}"}}"#);
        assert_eq!(find(nested.as_bytes()), Some((t, 42)));
        assert_eq!(find(b"no stamp t=x"), None);
    }
}
