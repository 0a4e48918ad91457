//! The SSRF guard (docs/product.md › Webhooks): a webhook URL must be `http://` to a host
//! whose every address is globally routable (`fandesk_domain::integration::address`),
//! unless the operator allow-listed the host (`--webhook-allow-hosts`). The URL is parsed
//! the WHATWG way, so every spelling of an address (decimal, octal or hex IPv4, short
//! forms, percent-encoding, full-width digits, IPv6 with or without an embedded IPv4)
//! reaches the check as the address it is; names are resolved and every answer checked.
//!
//! Checking a name once is not enough (DNS rebinding: it may resolve elsewhere a second
//! later), so deliveries connect through [`GuardedResolver`]: the HTTP client's own
//! resolver, which resolves, checks every address, and hands the client only checked
//! addresses — the address connected to is the address checked. Redirects are not
//! followed and proxies from the environment are not used, so nothing else picks the
//! destination.

use crate::app::error::{ServiceError, ServiceResult};
use fandesk_domain::integration::{MAX_URL_BYTES, address};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// A future of resolved addresses.
pub type Resolution = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses. The system's resolver in production; tests inject
/// their own to play a name that changes its answer.
pub trait HostResolver: Send + Sync + 'static {
    fn resolve(&self, host: &str) -> Resolution;
}

/// The operating system's resolver (`getaddrinfo` through tokio).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    fn resolve(&self, host: &str) -> Resolution {
        let host = host.to_owned();
        Box::pin(async move {
            let addresses = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addresses.map(|address| address.ip()).collect())
        })
    }
}

/// Why a URL may not be posted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        ServiceError::invalid("url", refusal.0)
    }
}

/// The guard: the allow-list and the resolver.
pub(crate) struct Guard {
    /// Lowercase host names and addresses (no brackets, no trailing dot).
    allow: Vec<String>,
    resolver: Arc<dyn HostResolver>,
}

/// A host as the allow-list compares it.
fn normalize_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl Guard {
    pub(crate) fn new(allow: &[String], resolver: Arc<dyn HostResolver>) -> Guard {
        Guard {
            allow: allow
                .iter()
                .map(|host| normalize_host(host))
                .filter(|host| !host.is_empty())
                .collect(),
            resolver,
        }
    }

    /// Whether the operator allow-listed `host` (as a URL spells it after parsing).
    pub(crate) fn allows(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.allow.contains(&host)
    }

    /// Parses a webhook URL: `http://`, a host, no credentials, at most 2,048 bytes.
    pub(crate) fn parse(text: &str) -> ServiceResult<Url> {
        let refuse = |why: &str| Err(ServiceError::invalid("url", why.to_owned()));
        if text.len() > MAX_URL_BYTES {
            return refuse("must be at most 2048 bytes");
        }
        if text.chars().any(char::is_control) {
            return refuse("must not contain control characters");
        }
        let Ok(url) = Url::parse(text.trim()) else {
            return refuse("is not a valid absolute URL");
        };
        match url.scheme() {
            "http" => {}
            "https" => {
                return refuse(
                    "https is not supported: this server is built without TLS; post to an \
                     http:// receiver, e.g. a TLS-terminating proxy",
                );
            }
            _ => return refuse("must be an http:// URL"),
        }
        if url.host().is_none() {
            return refuse("must name a host");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("must not carry credentials; the signature authenticates the sender");
        }
        Ok(url)
    }

    /// Checks the host of `url` now: an address literal itself, a name by every address
    /// it resolves to. Allow-listed hosts pass unchecked.
    pub(crate) async fn check(&self, url: &Url) -> Result<(), Refusal> {
        let Some(host) = url.host_str() else {
            return Err(Refusal("has no host".into()));
        };
        if self.allows(host) {
            return Ok(());
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) => check_address(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => check_address(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => self.check_name(name).await.map(drop),
            None => Err(Refusal("has no host".into())),
        }
    }

    /// Resolves `name` and checks every address; returns them when all may be reached.
    async fn check_name(&self, name: &str) -> Result<Vec<IpAddr>, Refusal> {
        let name = name.trim_end_matches('.');
        // RFC 6761: `localhost` and its subdomains are the local host, whatever DNS says.
        let lower = name.to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") {
            return Err(Refusal(format!("host {name} is the local host")));
        }
        let addresses = self
            .resolver
            .resolve(name)
            .await
            .map_err(|error| Refusal(format!("host {name} does not resolve: {error}")))?;
        if addresses.is_empty() {
            return Err(Refusal(format!("host {name} does not resolve")));
        }
        for address in &addresses {
            if let Some(why) = address::refusal(*address) {
                return Err(Refusal(format!("host {name} resolves to {address}, {why}")));
            }
        }
        Ok(addresses)
    }
}

fn check_address(ip: IpAddr) -> Result<(), Refusal> {
    match address::refusal(ip) {
        Some(why) => Err(Refusal(format!("address {ip} is {why}"))),
        None => Ok(()),
    }
}

/// The HTTP client's resolver for webhook deliveries: names are resolved and checked at
/// connection time, and the client connects only to the checked addresses.
pub(crate) struct GuardedResolver(pub Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = if guard.allows(&host) {
                guard
                    .resolver
                    .resolve(host.trim_end_matches('.'))
                    .await
                    .map_err(|error| Box::new(error) as Box<dyn std::error::Error + Send + Sync>)?
            } else {
                guard
                    .check_name(&host)
                    .await
                    .map_err(|refusal| Box::new(io::Error::other(refusal.0)) as Box<_>)?
            };
            // The port is the URL's: the connector sets it on each address.
            let sockets: Vec<SocketAddr> = addresses
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            Ok(Box::new(sockets.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests;
