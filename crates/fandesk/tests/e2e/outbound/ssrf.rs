//! The SSRF guard through the API: a server with no allow-list refuses, with 422 and
//! `details.field` = `url`, every URL whose host is not public, in every spelling; the
//! system resolver answers for `localhost`. (Names resolving elsewhere are in the
//! service's own table, with a resolver of its own.)

use super::SECRET;
use fandesk_testkit::TestServer;
use serde_json::json;

const REFUSED: [&str; 52] = [
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
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://10.1/",
    "http://0xa.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://0300.0250.0001.0001/",
    "http://3232235777/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://198.18.0.1/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
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
    "http://localhost/",
    "http://LOCALHOST./",
    "http://hooks.localhost:8080/",
    "http://user:secret@127.0.0.1/",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_urls_to_non_public_hosts_are_refused_in_every_spelling() {
    let server = TestServer::spawn().await;
    for url in REFUSED {
        let reply = server
            .http()
            .post(
                "/api/v1/webhooks",
                Some(server.owner_token()),
                json!({"url": url, "events": ["message.created"], "secret": SECRET}),
            )
            .await;
        reply.expect_error(422, "invalid_request");
        assert_eq!(
            reply.json["error"]["details"]["field"],
            "url",
            "{url}: {}",
            reply.text()
        );
    }
    let listed = server
        .http()
        .get("/api/v1/webhooks", Some(server.owner_token()))
        .await;
    assert_eq!(listed.json["webhooks"], json!([]), "nothing was created");
    server.shutdown().await;
}
