//! The SSRF guard's table: every spelling of a non-public address, and names resolving
//! there, refused; public hosts and allow-listed ones accepted. Names resolve through a
//! fake resolver, so the table needs no network.

use super::*;
use std::collections::HashMap;

/// Answers from a fixed table; unknown names do not resolve.
struct FakeResolver(HashMap<&'static str, Vec<IpAddr>>);

impl HostResolver for FakeResolver {
    fn resolve(&self, host: &str) -> Resolution {
        let answer = self.0.get(host).cloned();
        Box::pin(async move {
            answer.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such host"))
        })
    }
}

fn guard(allow: &[&str]) -> Guard {
    let ip = |text: &str| -> IpAddr { text.parse().unwrap() };
    let table = HashMap::from([
        ("public.example", vec![ip("93.184.216.34")]),
        ("internal.example", vec![ip("10.0.0.5")]),
        ("mixed.example", vec![ip("93.184.216.34"), ip("127.0.0.1")]),
        ("metadata.example", vec![ip("169.254.169.254")]),
        ("v6local.example", vec![ip("::1")]),
        ("mapped.example", vec![ip("::ffff:127.0.0.1")]),
        ("ula.example", vec![ip("2606:4700::1"), ip("fd00::1")]),
        ("empty.example", vec![]),
        ("hooks.internal", vec![ip("10.1.2.3")]),
    ]);
    let allow: Vec<String> = allow.iter().map(|host| (*host).to_owned()).collect();
    Guard::new(&allow, Arc::new(FakeResolver(table)))
}

/// `Ok(())` if `url` may be posted to, else the refusal's text.
async fn verdict(guard: &Guard, url: &str) -> Result<(), String> {
    let parsed = Guard::parse(url).map_err(|error| error.to_string())?;
    guard.check(&parsed).await.map_err(|refusal| refusal.0)
}

#[tokio::test]
async fn non_public_addresses_are_refused_in_every_spelling() {
    let guard = guard(&[]);
    let refused = [
        // IPv4 loopback, however written.
        "http://127.0.0.1/",
        "http://127.0.0.1:8080/hook",
        "http://127.1/",
        "http://127.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.0x0.0x0.0x1/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://127.0.0.1./",
        "http://%31%32%37.0.0.1/",
        "http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/",
        "http://127.255.255.254/",
        // "This network", unspecified.
        "http://0/",
        "http://0.0.0.0/",
        "http://0.1.2.3/",
        // Private.
        "http://10.0.0.1/",
        "http://10.1/",
        "http://0xa.0.0.1/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.1.1/",
        "http://0300.0250.0001.0001/",
        "http://3232235777/",
        // Link-local (cloud metadata), CGNAT, benchmarking, documentation.
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://198.18.0.1/",
        "http://192.0.2.1/",
        "http://198.51.100.7/",
        "http://203.0.113.9/",
        // Multicast, broadcast, reserved.
        "http://224.0.0.1/",
        "http://239.255.255.250/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        // IPv6, and IPv6 carrying an IPv4.
        "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]:9000/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[fc00::1]/",
        "http://[fd12:3456::1]/",
        "http://[fe80::1]/",
        "http://[fe80::1%25eth0]/",
        "http://[ff02::1]/",
        "http://[2001:db8::1]/",
        // Names.
        "http://localhost/",
        "http://LOCALHOST./",
        "http://hooks.localhost:8080/",
        "http://internal.example/",
        "http://mixed.example/",
        "http://metadata.example/",
        "http://v6local.example/",
        "http://mapped.example/",
        "http://ula.example/",
        "http://empty.example/",
        "http://nowhere.example/",
        // Not http, or with credentials.
        "https://93.184.216.34/",
        "ftp://93.184.216.34/",
        "http://user:secret@93.184.216.34/",
        "http:///nohost",
        "not a url",
    ];
    assert!(refused.len() >= 40);
    for url in refused {
        assert!(verdict(&guard, url).await.is_err(), "{url} must be refused");
    }
    // The refusal says why.
    let why = verdict(&guard, "http://0x7f.1/").await.unwrap_err();
    assert!(
        why.contains("127.0.0.1") && why.contains("loopback"),
        "{why}"
    );
    let why = verdict(&guard, "http://mixed.example/").await.unwrap_err();
    assert!(why.contains("resolves to 127.0.0.1"), "{why}");
}

#[tokio::test]
async fn public_and_allow_listed_hosts_pass() {
    let guard = guard(&["127.0.0.1", "Hooks.Internal.", "[::1]"]);
    for url in [
        "http://93.184.216.34/hook",
        "http://public.example:8080/x?y=1",
        "http://[2606:4700:4700::1111]/",
        "http://127.0.0.1:9/",
        "http://2130706433:9/",
        "http://hooks.internal/",
        "http://[::1]:8080/",
    ] {
        assert_eq!(verdict(&guard, url).await, Ok(()), "{url}");
    }
    // Allow-listing one host allows no other.
    for url in [
        "http://127.0.0.2/",
        "http://localhost/",
        "http://internal.example/",
    ] {
        assert!(verdict(&guard, url).await.is_err(), "{url}");
    }
}

/// The delivery client's resolver checks at connection time: a name that resolved to a
/// public address when the webhook was created but now points inside is refused.
#[tokio::test]
async fn the_resolver_refuses_at_connection_time() {
    let guard = Arc::new(guard(&["hooks.internal"]));
    let resolver = GuardedResolver(guard);
    let addresses = |name: &str| {
        let name: Name = name.parse().unwrap();
        resolver.resolve(name)
    };
    let public: Vec<SocketAddr> = addresses("public.example").await.unwrap().collect();
    assert_eq!(public, ["93.184.216.34:0".parse::<SocketAddr>().unwrap()]);
    assert!(addresses("mixed.example").await.is_err());
    assert!(addresses("internal.example").await.is_err());
    assert!(addresses("localhost").await.is_err());
    let allowed: Vec<SocketAddr> = addresses("hooks.internal").await.unwrap().collect();
    assert_eq!(allowed, ["10.1.2.3:0".parse::<SocketAddr>().unwrap()]);
}
