//! Who a request comes from, and how much one client may ask of the server: the client
//! address (the peer, or the `X-Forwarded-For` a trusted proxy adds), login backoff per
//! account and failed logins per address, fan sessions created per address, and fan
//! messages per fan and per address (docs/api.md › Errors: `rate_limited`).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use fandesk_service::ServiceError;
use jiff::Timestamp;
use serde_json::json;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A network whose addresses are trusted proxies, e.g. `10.0.0.0/8` or `127.0.0.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyRange {
    network: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for ProxyRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or CIDR range"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {bits}"))?,
            None => bits,
        };
        Ok(ProxyRange { network, prefix })
    }
}

impl ProxyRange {
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        let keep = |bits: u32, width: u32| {
            if self.prefix == 0 {
                0
            } else {
                bits >> (width - u32::from(self.prefix))
            }
        };
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                keep(u32::from(network), 32) == keep(u32::from(address), 32)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let shift = 128 - u32::from(self.prefix);
                let (network, address) = (u128::from(network), u128::from(address));
                self.prefix == 0 || network >> shift == address >> shift
            }
            _ => false,
        }
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further
/// left were written by the client and prove nothing).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ProxyRange]) -> IpAddr {
    let is_trusted = |address: IpAddr| trusted.iter().any(|range| range.contains(address));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        let Ok(address) = entry.parse::<IpAddr>() else {
            // An entry we cannot read ends what can be believed.
            return peer;
        };
        if !is_trusted(address) {
            return address;
        }
    }
    peer
}

/// The client address of a request (see [`client_address`]).
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
            .ok_or_else(|| ApiError::from(ServiceError::Internal("no peer address".into())))?;
        Ok(ClientAddress(client_address(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// Counts per key in fixed one-minute windows; forgets keys whose window has passed once
/// the table grows large, so a spray of keys cannot grow it without bound.
struct Windows<K> {
    counts: Mutex<HashMap<K, (Instant, u32)>>,
    per_minute: u32,
}

const WINDOW: Duration = Duration::from_secs(60);
const MAX_KEYS: usize = 100_000;

impl<K: Hash + Eq + Clone> Windows<K> {
    fn new(per_minute: u32) -> Self {
        Windows {
            counts: Mutex::new(HashMap::new()),
            per_minute: per_minute.max(1),
        }
    }

    /// Whether `key` has used its minute up (without counting).
    fn exhausted(&self, key: &K, now: Instant) -> bool {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        counts.get(key).is_some_and(|(start, count)| {
            now.duration_since(*start) < WINDOW && *count >= self.per_minute
        })
    }

    /// Counts one for `key`.
    fn count(&self, key: &K, now: Instant) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if counts.len() > MAX_KEYS {
            counts.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = counts.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Counts one for `key` unless it has used its minute up; true when counted.
    fn take(&self, key: &K, now: Instant) -> bool {
        if self.exhausted(key, now) {
            return false;
        }
        self.count(key, now);
        true
    }
}

/// Login backoff (README › Configuration).
#[derive(Clone, Debug)]
pub struct LoginPolicy {
    /// Wrong passwords an account may take before each further attempt waits.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; it doubles with each further
    /// failure.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Failed logins allowed from one client address per minute, whatever the accounts.
    pub failures_per_address_per_minute: u32,
    /// How long a refused attempt waits before its 429 goes out. Holding the answer costs
    /// the server a timer; a guesser waiting for each answer then makes one attempt a
    /// second per connection instead of spinning on refusals.
    pub refusal_hold: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            free_failures: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            failures_per_address_per_minute: 100,
            refusal_hold: Duration::from_secs(1),
        }
    }
}

impl LoginPolicy {
    /// How long an account with `failures` consecutive failures waits after the last one.
    pub fn delay(&self, failures: u32) -> Duration {
        let Some(past) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        if past == 0 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(past - 1);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Login guard: backoff per account (so guesses from many addresses do not each get a
/// password check) and failed logins per address (so one address cannot spray accounts).
/// An account's failures are stored (`App::login_failures`), so its backoff holds on
/// every node and across restarts; an address's are counted on this node. A login from an
/// address is never refused for another client's failures on other accounts alone: only
/// failures count against an address, and a success resets the account.
pub struct LoginGuard {
    policy: LoginPolicy,
    addresses: Windows<IpAddr>,
}

impl LoginGuard {
    pub fn new(policy: LoginPolicy) -> LoginGuard {
        LoginGuard {
            addresses: Windows::new(policy.failures_per_address_per_minute),
            policy,
        }
    }

    /// Refuses an attempt before the password is checked: the account (with `failures`
    /// consecutive failures, the last at `last_failed_at`) is waiting out its backoff at
    /// `wall`, or the address has failed too often this minute (at `now`).
    pub fn admit(
        &self,
        account: Option<(u32, Timestamp)>,
        address: IpAddr,
        now: Instant,
        wall: Timestamp,
    ) -> Result<(), ApiError> {
        if let Some((failures, last_failed_at)) = account {
            let wait = self.policy.delay(failures);
            // A node whose clock is behind the one that counted sees no time passed.
            let elapsed = wall
                .duration_since(last_failed_at)
                .max(jiff::SignedDuration::ZERO)
                .unsigned_abs();
            if elapsed < wait {
                let retry = (wait - elapsed).as_secs_f64().ceil().max(1.0);
                return Err(rate_limited(
                    "too many failed logins for this account; wait before trying again",
                    retry,
                ));
            }
        }
        self.admit_address(address, now)
    }

    /// Refuses an attempt from an address that has failed too often this minute (at
    /// `now`), before anything else is done for it: a guesser held back by its address
    /// costs no database read.
    pub fn admit_address(&self, address: IpAddr, now: Instant) -> Result<(), ApiError> {
        if self.addresses.exhausted(&address, now) {
            return Err(rate_limited(
                "too many failed logins from this address; wait a minute",
                WINDOW.as_secs_f64(),
            ));
        }
        Ok(())
    }

    /// `result`, after [`LoginPolicy::refusal_hold`] when it is a refusal.
    pub async fn held<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if result.is_err() {
            tokio::time::sleep(self.policy.refusal_hold).await;
        }
        result
    }

    /// Counts a failed login against `address`.
    pub fn failed(&self, address: IpAddr, now: Instant) {
        self.addresses.count(&address, now);
    }
}

fn rate_limited(message: &str, retry_after_secs: f64) -> ApiError {
    ApiError::from(ServiceError::RateLimited(message.into()))
        .with_details(json!({ "retry_after_secs": retry_after_secs as u64 }))
}

/// Fan limits (README › Configuration).
#[derive(Clone, Debug)]
pub struct FanPolicy {
    /// Fan sessions one client address may create per minute.
    pub sessions_per_address_per_minute: u32,
    /// Messages one fan may send per minute (conversations and rooms, REST and WebSocket).
    pub messages_per_fan_per_minute: u32,
    /// Messages all fans at one client address may send per minute.
    pub messages_per_address_per_minute: u32,
}

impl Default for FanPolicy {
    fn default() -> Self {
        FanPolicy {
            sessions_per_address_per_minute: 60,
            messages_per_fan_per_minute: 30,
            messages_per_address_per_minute: 300,
        }
    }
}

/// What fans may create per minute.
pub struct FanLimits {
    sessions: Windows<IpAddr>,
    by_fan: Windows<String>,
    by_address: Windows<IpAddr>,
}

impl FanLimits {
    pub fn new(policy: &FanPolicy) -> FanLimits {
        FanLimits {
            sessions: Windows::new(policy.sessions_per_address_per_minute),
            by_fan: Windows::new(policy.messages_per_fan_per_minute),
            by_address: Windows::new(policy.messages_per_address_per_minute),
        }
    }

    pub fn session(&self, address: IpAddr, now: Instant) -> Result<(), ApiError> {
        if self.sessions.take(&address, now) {
            Ok(())
        } else {
            Err(rate_limited(
                "too many fan sessions from this address; wait a minute",
                WINDOW.as_secs_f64(),
            ))
        }
    }

    /// Counts a message by `fan` from `address`; refused past either quota.
    pub fn message(&self, fan: &str, address: IpAddr, now: Instant) -> Result<(), ApiError> {
        let fan = fan.to_owned();
        if self.by_fan.exhausted(&fan, now) || self.by_address.exhausted(&address, now) {
            return Err(rate_limited(
                "too many messages; wait a minute",
                WINDOW.as_secs_f64(),
            ));
        }
        self.by_fan.count(&fan, now);
        self.by_address.count(&address, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(peer: &str, forwarded: &[&str], trusted: &[&str], expected: &str) {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        let trusted: Vec<ProxyRange> = trusted.iter().map(|range| range.parse().unwrap()).collect();
        let got = client_address(peer.parse().unwrap(), &headers, &trusted);
        assert_eq!(
            got,
            expected.parse::<IpAddr>().unwrap(),
            "{peer} {forwarded:?} {trusted:?}"
        );
    }

    #[test]
    fn the_client_address_believes_trusted_proxies_only() {
        // No proxies trusted: the header is the client's word, ignored.
        check("203.0.113.9", &["198.51.100.1"], &[], "203.0.113.9");
        check(
            "203.0.113.9",
            &["198.51.100.1"],
            &["10.0.0.0/8"],
            "203.0.113.9",
        );
        // A trusted proxy: the entry it appended.
        check(
            "10.1.2.3",
            &["198.51.100.1"],
            &["10.0.0.0/8"],
            "198.51.100.1",
        );
        // The client's own prefix is skipped: the right-most untrusted entry counts.
        check(
            "10.1.2.3",
            &["1.1.1.1, 198.51.100.1"],
            &["10.0.0.0/8"],
            "198.51.100.1",
        );
        check(
            "10.1.2.3",
            &["1.1.1.1", "198.51.100.1, 10.0.0.7"],
            &["10.0.0.0/8"],
            "198.51.100.1",
        );
        // Garbage or nothing after trusted hops: the peer.
        check("10.1.2.3", &["nonsense"], &["10.0.0.0/8"], "10.1.2.3");
        check("10.1.2.3", &[], &["10.0.0.0/8"], "10.1.2.3");
        check("::1", &["2001:db8::5"], &["::1"], "2001:db8::5");
        check("127.0.0.1", &["192.0.2.1"], &["127.0.0.1"], "192.0.2.1");
        check("127.0.0.2", &["192.0.2.1"], &["127.0.0.1"], "127.0.0.2");
    }

    #[test]
    fn proxy_ranges_parse_and_match() {
        let range: ProxyRange = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains("10.255.0.1".parse().unwrap()));
        assert!(!range.contains("11.0.0.1".parse().unwrap()));
        assert!(range.contains("::ffff:10.0.0.1".parse().unwrap()));
        let everything: ProxyRange = "0.0.0.0/0".parse().unwrap();
        assert!(everything.contains("8.8.8.8".parse().unwrap()));
        let v6: ProxyRange = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<ProxyRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn login_waits_grow_after_the_free_failures() {
        let policy = LoginPolicy::default();
        let table = [
            (0, 0),
            (5, 0),
            (6, 1),
            (7, 2),
            (8, 4),
            (12, 64),
            (30, 900),
            (200, 900),
        ];
        for (failures, seconds) in table {
            assert_eq!(
                policy.delay(failures),
                Duration::from_secs(seconds),
                "{failures}"
            );
        }
    }

    #[test]
    fn an_account_backs_off_by_its_stored_failures_whatever_the_address() {
        let guard = LoginGuard::new(LoginPolicy::default());
        let (start, wall) = (Instant::now(), Timestamp::UNIX_EPOCH);
        let anywhere: IpAddr = "198.51.100.7".parse().unwrap();
        let after = |secs: i64| wall + jiff::SignedDuration::from_secs(secs);
        // Five failures are free; the sixth makes the account wait a second, the seventh two.
        assert!(guard.admit(Some((5, wall)), anywhere, start, wall).is_ok());
        assert!(guard.admit(Some((6, wall)), anywhere, start, wall).is_err());
        assert!(
            guard
                .admit(Some((6, wall)), anywhere, start, after(1))
                .is_ok()
        );
        assert!(
            guard
                .admit(Some((7, wall)), anywhere, start, after(1))
                .is_err()
        );
        assert!(
            guard
                .admit(Some((7, wall)), anywhere, start, after(2))
                .is_ok()
        );
        assert!(guard.admit(None, anywhere, start, wall).is_ok());
    }

    #[test]
    fn an_address_fails_a_bounded_number_of_times() {
        let guard = LoginGuard::new(LoginPolicy {
            failures_per_address_per_minute: 3,
            ..LoginPolicy::default()
        });
        let start = Instant::now();
        let spraying: IpAddr = "192.0.2.1".parse().unwrap();
        let wall = Timestamp::UNIX_EPOCH;
        for _ in 0..3 {
            guard.admit(None, spraying, start, wall).unwrap();
            guard.failed(spraying, start);
        }
        assert!(guard.admit(None, spraying, start, wall).is_err());
        assert!(
            guard
                .admit(None, "192.0.2.2".parse().unwrap(), start, wall)
                .is_ok()
        );
        assert!(guard.admit(None, spraying, start + WINDOW, wall).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_login_is_answered_after_the_hold() {
        let guard = LoginGuard::new(LoginPolicy {
            failures_per_address_per_minute: 1,
            ..LoginPolicy::default()
        });
        let address: IpAddr = "192.0.2.9".parse().unwrap();
        let start = tokio::time::Instant::now();
        let admitted = guard.admit_address(address, Instant::now());
        assert!(guard.held(admitted).await.is_ok());
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "an admitted attempt waits for nothing"
        );
        guard.failed(address, Instant::now());
        let refused = guard.admit_address(address, Instant::now());
        assert!(guard.held(refused).await.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[test]
    fn fans_are_limited_per_fan_and_per_address() {
        let limits = FanLimits::new(&FanPolicy {
            sessions_per_address_per_minute: 2,
            messages_per_fan_per_minute: 2,
            messages_per_address_per_minute: 3,
        });
        let now = Instant::now();
        let (home, venue): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!(limits.session(home, now).is_ok());
        assert!(limits.session(home, now).is_ok());
        assert!(limits.session(home, now).is_err());
        assert!(limits.session(venue, now).is_ok());
        assert!(limits.message("fan_a", home, now).is_ok());
        assert!(limits.message("fan_a", home, now).is_ok());
        assert!(limits.message("fan_a", venue, now).is_err(), "per fan");
        assert!(limits.message("fan_b", home, now).is_ok());
        assert!(limits.message("fan_c", home, now).is_err(), "per address");
        assert!(limits.message("fan_a", home, now + WINDOW).is_ok());
    }
}
