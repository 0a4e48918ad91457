//! Which IP addresses a webhook may never reach (docs/product.md › Webhooks: the SSRF
//! guard). Anything not globally routable is refused: loopback, private, link-local,
//! unique-local, multicast, unspecified, and the other special-purpose ranges of the IANA
//! registries (carrier-grade NAT, benchmarking, documentation, "this network", reserved,
//! broadcast, discard-only, IETF protocol assignments). IPv6 forms that carry an IPv4
//! address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by the address they
//! carry, and refused outright when they cannot be routed anyway. What remains of IPv6
//! must be global unicast (`2000::/3`).
//!
//! How a URL spells its host (decimal, octal or hex IPv4, short forms, brackets) is the
//! URL parser's business; this module sees the parsed address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused, or `None` when a webhook may connect to it.
pub fn refusal(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn in_v4(address: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(address) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

/// The IPv4 special-purpose ranges that are not globally reachable.
const V4_RANGES: [([u8; 4], u32, &str); 16] = [
    ([0, 0, 0, 0], 8, "\"this network\" (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "private (10.0.0.0/8)"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
    ([169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"),
    ([172, 16, 0, 0], 12, "private (172.16.0.0/12)"),
    (
        [192, 0, 0, 0],
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    ([192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast (192.88.99.0/24)"),
    ([192, 168, 0, 0], 16, "private (192.168.0.0/16)"),
    ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"),
    ([198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"),
    ([203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"),
    ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    ([255, 255, 255, 255], 32, "broadcast (255.255.255.255)"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

fn refusal_v4(address: Ipv4Addr) -> Option<&'static str> {
    if address.is_unspecified() {
        return Some("unspecified (0.0.0.0)");
    }
    V4_RANGES
        .iter()
        .find(|(network, prefix, _)| in_v4(address, *network, *prefix))
        .map(|(_, _, why)| *why)
}

fn in_v6(address: Ipv6Addr, network: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(address) & mask == u128::from(Ipv6Addr::from(network)) & mask
}

/// The IPv4 address in the low 32 bits.
fn low_v4(address: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(address) & 0xffff_ffff) as u32)
}

/// The IPv6 special-purpose ranges refused outright (checked after the forms that embed
/// an IPv4 address).
const V6_RANGES: [([u16; 8], u32, &str); 9] = [
    (
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "local-use NAT64 (64:ff9b:1::/48)",
    ),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only (100::/64)"),
    (
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "documentation (2001:db8::/32)",
    ),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments (2001::/23)",
    ),
    (
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "documentation (3fff::/20)",
    ),
    (
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "segment routing (5f00::/16)",
    ),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local (fc00::/7)"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local (fe80::/10)"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast (ff00::/8)"),
];

fn refusal_v6(address: Ipv6Addr) -> Option<&'static str> {
    if address.is_unspecified() {
        return Some("unspecified (::)");
    }
    if address.is_loopback() {
        return Some("loopback (::1)");
    }
    // ::ffff:a.b.c.d — the IPv4 address itself, as the socket layer would reach it.
    if let Some(v4) = address.to_ipv4_mapped() {
        return refusal_v4(v4).map(|_| "an IPv4-mapped address that is not global");
    }
    // ::a.b.c.d (deprecated IPv4-compatible) — never a real destination.
    if in_v6(address, [0; 8], 96) {
        return Some("IPv4-compatible (::/96)");
    }
    // 64:ff9b::a.b.c.d — NAT64 translates it to the IPv4 address.
    if in_v6(address, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return refusal_v4(low_v4(address))
            .map(|_| "a NAT64 address of an IPv4 that is not global");
    }
    // 2002:AABB:CCDD:: — 6to4 tunnels to the IPv4 address AA.BB.CC.DD.
    if in_v6(address, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let embedded = Ipv4Addr::from(((u128::from(address) >> 80) & 0xffff_ffff) as u32);
        return refusal_v4(embedded).map(|_| "a 6to4 address of an IPv4 that is not global");
    }
    if let Some((_, _, why)) = V6_RANGES
        .iter()
        .find(|(network, prefix, _)| in_v6(address, *network, *prefix))
    {
        return Some(why);
    }
    if address.segments()[0] & 0xe000 != 0x2000 {
        return Some("not global unicast (outside 2000::/3)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected`: the start of the refusal, or `None` when the address is allowed.
    fn check(address: &str, expected: Option<&str>) {
        let parsed: IpAddr = address.parse().unwrap_or_else(|_| panic!("{address}"));
        let got = refusal(parsed);
        match expected {
            None => assert_eq!(got, None, "{address} must be allowed"),
            Some(start) => assert!(
                got.is_some_and(|why| why.starts_with(start)),
                "{address}: expected {start:?}, got {got:?}"
            ),
        }
    }

    #[test]
    fn ipv4() {
        check("0.0.0.0", Some("unspecified"));
        check("0.1.2.3", Some("\"this network\""));
        check("10.0.0.1", Some("private"));
        check("10.255.255.255", Some("private"));
        check("100.64.0.1", Some("carrier-grade NAT"));
        check("100.127.255.254", Some("carrier-grade NAT"));
        check("100.128.0.1", None);
        check("127.0.0.1", Some("loopback"));
        check("127.255.255.254", Some("loopback"));
        check("169.254.169.254", Some("link-local"));
        check("172.16.0.1", Some("private"));
        check("172.31.255.255", Some("private"));
        check("172.32.0.1", None);
        check("192.0.0.8", Some("IETF"));
        check("192.0.2.10", Some("documentation"));
        check("192.88.99.1", Some("6to4 relay"));
        check("192.168.1.1", Some("private"));
        check("198.18.0.1", Some("benchmarking"));
        check("198.19.255.255", Some("benchmarking"));
        check("198.20.0.1", None);
        check("198.51.100.7", Some("documentation"));
        check("203.0.113.9", Some("documentation"));
        check("224.0.0.1", Some("multicast"));
        check("239.255.255.250", Some("multicast"));
        check("240.0.0.1", Some("reserved"));
        check("255.255.255.255", Some("broadcast"));
        check("8.8.8.8", None);
        check("93.184.216.34", None);
        check("1.1.1.1", None);
    }

    #[test]
    fn ipv6() {
        check("::", Some("unspecified"));
        check("::1", Some("loopback"));
        check("::ffff:127.0.0.1", Some("an IPv4-mapped"));
        check("::ffff:10.1.2.3", Some("an IPv4-mapped"));
        check("::ffff:8.8.8.8", None);
        check("::127.0.0.1", Some("IPv4-compatible"));
        check("::8.8.8.8", Some("IPv4-compatible"));
        check("64:ff9b::7f00:1", Some("a NAT64"));
        check("64:ff9b::a9fe:a9fe", Some("a NAT64"));
        check("64:ff9b::808:808", None);
        check("64:ff9b:1::1", Some("local-use NAT64"));
        check("2002:7f00:1::", Some("a 6to4"));
        check("2002:c0a8:101::1", Some("a 6to4"));
        check("2002:808:808::1", None);
        check("100::1", Some("discard-only"));
        check("2001:db8::1", Some("documentation"));
        check("2001::1", Some("IETF"));
        check("3fff::1", Some("documentation"));
        check("5f00::1", Some("segment routing"));
        check("fc00::1", Some("unique-local"));
        check("fd12:3456::1", Some("unique-local"));
        check("fe80::1", Some("link-local"));
        check("febf::1", Some("link-local"));
        check("fec0::1", Some("not global unicast"));
        check("ff02::1", Some("multicast"));
        check("ff0e::1", Some("multicast"));
        check("4000::1", Some("not global unicast"));
        check("2606:4700:4700::1111", None);
        check("2a00:1450:4001::200e", None);
    }
}
