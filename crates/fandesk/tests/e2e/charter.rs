//! The charter through a real server (docs/api.md › Charter; docs/product.md › Charter):
//! versions round-trip with who and when and diffs between them; every listed key is
//! validated with its dotted key and line; a bad document changes nothing; a stale
//! `base_version` is refused; only the owner saves and the owner and supervisors review;
//! the review falls due on the clock; fans get 404 on every charter route.

use fandesk_service::{Config, ManualClock};
use fandesk_testkit::{Body, HttpConfig, Reply, TestServer, WsClient};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub async fn put_charter(server: &TestServer, token: &str, toml: &str, base: i64) -> Reply {
    let body = json!({"toml": toml, "base_version": base});
    server
        .http()
        .request(
            reqwest::Method::PUT,
            "/api/v1/charter",
            Some(token),
            Some(Body::Json(body)),
        )
        .await
}

pub async fn get_charter(server: &TestServer, token: &str) -> Value {
    let reply = server.http().get("/api/v1/charter", Some(token)).await;
    reply.expect_status(200);
    reply.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_round_trip_with_who_when_and_diffs() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let (_, owner_member) = server
        .login(
            fandesk_testkit::OWNER_EMAIL,
            fandesk_testkit::OWNER_PASSWORD,
        )
        .await;
    let first = get_charter(&server, &owner).await;
    assert_eq!(first["version"], 1);
    assert_eq!(first["updated_by"], Value::Null, "the server seeded it");
    let settings = &first["settings"];
    assert_eq!(settings["response"]["first_response_target_secs"], 60);
    assert_eq!(settings["channels"]["limit"], 12);
    assert_eq!(settings["channels"]["archive_after_days"], 30);
    assert_eq!(settings["bots"]["max_exchanges"], 3);
    assert_eq!(settings["canned"]["first_line"], "enforce");
    assert_eq!(settings["review"]["every_days"], 91);
    assert_eq!(first["review_due"], false);
    let seeded = first["toml"].as_str().unwrap().to_owned();
    assert!(seeded.contains("[channels]\n"), "{seeded}");

    let text = "# Our charter\n[channels]\nlimit = 4\n\n[voice]\ntone = \"warm\"\nsign_off = \"— Mia 💛\"\n";
    let saved = put_charter(&server, &owner, text, 1).await;
    saved.expect_status(200);
    assert_eq!(saved.json["version"], 2);
    assert_eq!(saved.json["toml"], text, "stored exactly as written");
    assert_eq!(saved.json["updated_by"], owner_member["id"]);
    assert_eq!(saved.json["settings"]["channels"]["limit"], 4);
    assert_eq!(saved.json["settings"]["voice"]["sign_off"], "— Mia 💛");
    // Keys left out keep their defaults.
    assert_eq!(saved.json["settings"]["channels"]["archive_after_days"], 30);
    let current = get_charter(&server, &owner).await;
    assert_eq!(current["toml"], text);
    assert_eq!(current["version"], 2);

    let http = server.http();
    let versions = http.get("/api/v1/charter/versions", Some(&owner)).await;
    versions.expect_status(200);
    let listed: Vec<(i64, Value)> = versions.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|version| {
            assert!(version["updated_at"].is_string());
            (
                version["version"].as_i64().unwrap(),
                version["updated_by"].clone(),
            )
        })
        .collect();
    assert_eq!(listed, [(2, owner_member["id"].clone()), (1, Value::Null)]);
    let old = http.get("/api/v1/charter/versions/1", Some(&owner)).await;
    old.expect_status(200);
    assert_eq!(old.json["toml"], seeded.as_str());
    http.get("/api/v1/charter/versions/3", Some(&owner))
        .await
        .expect_error(404, "not_found");
    http.get("/api/v1/charter/versions/two", Some(&owner))
        .await
        .expect_error(404, "not_found");

    let diff = http
        .get("/api/v1/charter/diff?from=1&to=2", Some(&owner))
        .await;
    diff.expect_status(200);
    let unified = diff.json["unified"].as_str().unwrap();
    assert!(unified.starts_with("--- v1\n+++ v2\n"), "{unified}");
    assert!(unified.contains("\n+limit = 4\n"), "{unified}");
    assert!(unified.contains("\n-limit = 12\n"), "{unified}");
    let lines = diff.json["lines"].as_array().unwrap();
    let tagged = |tag: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|line| line["tag"] == tag)
            .map(|line| line["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let inserted = tagged("insert");
    assert!(
        inserted.contains(&"# Our charter".to_owned()),
        "{inserted:?}"
    );
    assert!(inserted.contains(&"limit = 4".to_owned()), "{inserted:?}");
    assert!(tagged("delete").contains(&"limit = 12".to_owned()));
    let numbered = lines.iter().all(|line| match line["tag"].as_str() {
        Some("equal") => line["old_line"].is_u64() && line["new_line"].is_u64(),
        Some("insert") => line["old_line"].is_null() && line["new_line"].is_u64(),
        Some("delete") => line["old_line"].is_u64() && line["new_line"].is_null(),
        _ => false,
    });
    assert!(numbered, "every line carries its numbers");
    http.get("/api/v1/charter/diff?from=1&to=7", Some(&owner))
        .await
        .expect_error(404, "not_found");
    http.get("/api/v1/charter/diff?from=1", Some(&owner))
        .await
        .expect_error(400, "invalid_request");
    server.shutdown().await;
}

/// A document with one bad value for `key` (a table `section`, a `line` in it) is
/// refused naming the key and its line.
async fn check_refused(server: &TestServer, document: &str, field: &str, line: u64) {
    let reply = put_charter(server, server.owner_token(), document, 1).await;
    reply.expect_error(422, "invalid_request");
    let details = &reply.json["error"]["details"];
    assert_eq!(details["field"], field, "{document:?}: {}", reply.text());
    assert_eq!(details["line"], line, "{document:?}: {}", reply.text());
    assert!(
        details["errors"]
            .as_array()
            .is_some_and(|errors| !errors.is_empty())
    );
    assert!(
        reply.error_message().unwrap().contains(field),
        "the message names the key: {}",
        reply.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_key_is_validated_naming_its_dotted_key() {
    let server = TestServer::spawn().await;
    let table: &[(&str, &str, u64)] = &[
        (
            "[response]\nfirst_response_target_secs = 0\n",
            "response.first_response_target_secs",
            2,
        ),
        (
            "[response]\nfirst_response_target_secs = \"soon\"\n",
            "response.first_response_target_secs",
            2,
        ),
        ("\n[channels]\nlimit = -1\n", "channels.limit", 3),
        ("[channels]\nlimit = \"twelve\"\n", "channels.limit", 2),
        (
            "[channels]\nlimit = 5\narchive_after_days = 0\n",
            "channels.archive_after_days",
            3,
        ),
        ("[bots]\nmax_exchanges = 0\n", "bots.max_exchanges", 2),
        ("[bots]\nmax_exchanges = 2.5\n", "bots.max_exchanges", 2),
        (
            "[canned]\nfirst_line = \"sometimes\"\n",
            "canned.first_line",
            2,
        ),
        ("[keywords]\nrules = \"refund\"\n", "keywords.rules", 2),
        ("[keywords]\nrules = [\"?!\"]\n", "keywords.rules[0]", 2),
        ("[review]\nevery_days = 0\n", "review.every_days", 2),
        (
            "[review]\nevery_days = \"quarterly\"\n",
            "review.every_days",
            2,
        ),
        ("[channels]\ncolour = \"red\"\n", "channels.colour", 2),
        ("[mood]\nhappy = true\n", "mood", 1),
        ("[channels]\nlimit = \n", "channels.limit", 2),
    ];
    for (document, field, line) in table {
        check_refused(&server, document, field, *line).await;
    }
    let owner = server.owner_token();
    let current = get_charter(&server, owner).await;
    assert_eq!(current["version"], 1, "nothing was saved");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_document_applies_nothing() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    let before = get_charter(&server, &owner).await;
    let rules_before = server
        .http()
        .get("/api/v1/keyword-rules", Some(&owner))
        .await;
    // Good changes to several sections, and one bad value at the end.
    let document = "[channels]\nlimit = 3\n[keywords]\nrules = [\"chargeback\"]\n\
                    [response]\nfirst_response_target_secs = 10\nstretch_target_secs = 5\n\
                    [bots]\nmax_exchanges = 1000\n";
    let reply = put_charter(&server, &owner, document, 1).await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(
        reply.json["error"]["details"]["field"],
        "bots.max_exchanges"
    );
    assert_eq!(reply.json["error"]["details"]["line"], 9);
    let after = get_charter(&server, &owner).await;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["toml"], before["toml"]);
    assert_eq!(after["settings"], before["settings"]);
    let rules_after = server
        .http()
        .get("/api/v1/keyword-rules", Some(&owner))
        .await;
    assert_eq!(rules_after.json, rules_before.json);
    let (agent, _) = server.create_member("agent").await;
    let queue = server.http().get("/api/v1/queue", Some(&agent)).await;
    assert_eq!(
        queue.json["sla_target_secs"], 60,
        "the target in force is unchanged"
    );
    // U+0000 cannot be stored: refused naming the field.
    let reply = put_charter(&server, &owner, "# \u{0}\n", 1).await;
    reply.expect_error(422, "invalid_request");
    assert_eq!(reply.json["error"]["details"]["field"], "toml");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_base_version_is_refused() {
    let server = TestServer::spawn().await;
    let owner = server.owner_token().to_owned();
    put_charter(&server, &owner, "[channels]\nlimit = 5\n", 1)
        .await
        .expect_status(200);
    // A second editor who also read version 1.
    let stale = put_charter(&server, &owner, "[channels]\nlimit = 6\n", 1).await;
    stale.expect_error(409, "conflict");
    assert_eq!(stale.json["error"]["details"]["current_version"], 2);
    assert_eq!(stale.json["error"]["details"]["field"], "base_version");
    let current = get_charter(&server, &owner).await;
    assert_eq!(current["version"], 2);
    assert_eq!(current["settings"]["channels"]["limit"], 5);
    // A version that never existed is stale too; the current one works.
    put_charter(&server, &owner, "", 9)
        .await
        .expect_error(409, "conflict");
    put_charter(&server, &owner, "", 0)
        .await
        .expect_error(422, "invalid_request");
    put_charter(&server, &owner, "[channels]\nlimit = 6\n", 2)
        .await
        .expect_status(200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fans_get_404_on_every_charter_route() {
    let server = TestServer::spawn().await;
    let (fan, _) = server.fan_session("Curious Fan").await;
    let http = server.http();
    let unknown = http.get("/api/v1/no-such-route", Some(&fan)).await;
    unknown.expect_error(404, "not_found");
    let requests: Vec<(reqwest::Method, &str, Option<Body>)> = vec![
        (reqwest::Method::GET, "/api/v1/charter", None),
        (
            reqwest::Method::PUT,
            "/api/v1/charter",
            Some(Body::Json(json!({"toml": "", "base_version": 1}))),
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/charter",
            Some(Body::Raw(b"not json".to_vec())),
        ),
        (reqwest::Method::GET, "/api/v1/charter/versions", None),
        (reqwest::Method::GET, "/api/v1/charter/versions/1", None),
        (reqwest::Method::GET, "/api/v1/charter/versions/x", None),
        (
            reqwest::Method::GET,
            "/api/v1/charter/diff?from=1&to=1",
            None,
        ),
        (reqwest::Method::GET, "/api/v1/charter/diff?nonsense", None),
        (reqwest::Method::GET, "/api/v1/charter/reviews", None),
        (
            reqwest::Method::POST,
            "/api/v1/charter/reviews",
            Some(Body::Json(json!({"note": "hi"}))),
        ),
        (
            reqwest::Method::POST,
            "/api/v1/charter/reviews",
            Some(Body::Raw(b"[1]".to_vec())),
        ),
    ];
    for (method, path, body) in requests {
        let reply = http.request(method.clone(), path, Some(&fan), body).await;
        reply.expect_error(404, "not_found");
        assert_eq!(
            reply.json, unknown.json,
            "{method} {path}: the same answer as an unknown route"
        );
    }
    let mut socket = WsClient::connect(&server, &fan).await;
    let refused = socket
        .subscribe("charter", None)
        .await
        .expect_err("fans cannot follow the charter");
    assert_eq!(refused["code"], "not_found");
    // Nothing was saved by the fan's attempts.
    assert_eq!(
        get_charter(&server, server.owner_token()).await["version"],
        1
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_saves_and_the_team_reads() {
    let server = TestServer::spawn().await;
    let http = server.http();
    for role in ["supervisor", "escalation_lead", "agent", "bot"] {
        let (token, _) = server.create_member(role).await;
        let read = get_charter(&server, &token).await;
        assert_eq!(read["version"], 1, "{role} reads the charter");
        http.get("/api/v1/charter/versions", Some(&token))
            .await
            .expect_status(200);
        put_charter(&server, &token, "", 1)
            .await
            .expect_error(403, "forbidden");
        let review = http
            .post("/api/v1/charter/reviews", Some(&token), json!({}))
            .await;
        if role == "supervisor" {
            review.expect_status(201);
        } else {
            review.expect_error(403, "forbidden");
        }
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_falls_due_every_days_after_the_last_sign_off() {
    let clock = Arc::new(ManualClock::starting_now());
    // Sessions outlive the months the clock moves.
    let year = Duration::from_secs(365 * 24 * 3600);
    let config = Config {
        member_token_ttl: year,
        ..Config::default()
    };
    let server = TestServer::spawn_service(HttpConfig::default(), config, clock.clone()).await;
    let owner = server.owner_token().to_owned();
    let (supervisor, supervisor_id) = server.create_member("supervisor").await;
    let start = get_charter(&server, &owner).await;
    assert_eq!(start["review_due"], false);
    assert!(start["last_review"].is_null());
    let written: jiff::Timestamp = start["updated_at"].as_str().unwrap().parse().unwrap();
    let due: jiff::Timestamp = start["review_due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due.duration_since(written),
        jiff::SignedDuration::from_hours(91 * 24)
    );

    clock.advance(Duration::from_secs(92 * 24 * 3600));
    let overdue = get_charter(&server, &supervisor).await;
    assert_eq!(overdue["review_due"], true, "{overdue}");

    let review = server
        .http()
        .post(
            "/api/v1/charter/reviews",
            Some(&supervisor),
            json!({"note": "  Checked the targets and the voice.  "}),
        )
        .await;
    review.expect_status(201);
    assert_eq!(review.json["reviewed_by"], supervisor_id.as_str());
    assert_eq!(review.json["version"], 1);
    assert_eq!(review.json["note"], "Checked the targets and the voice.");
    let reviewed = get_charter(&server, &owner).await;
    assert_eq!(reviewed["review_due"], false);
    assert_eq!(reviewed["last_review"]["id"], review.json["id"]);
    let reviewed_at: jiff::Timestamp = review.json["reviewed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let due: jiff::Timestamp = reviewed["review_due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due.duration_since(reviewed_at),
        jiff::SignedDuration::from_hours(91 * 24)
    );
    // A shorter cadence in the charter brings the next review closer.
    put_charter(&server, &owner, "[review]\nevery_days = 7\n", 1)
        .await
        .expect_status(200);
    clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(get_charter(&server, &owner).await["review_due"], true);
    let reviews = server
        .http()
        .get("/api/v1/charter/reviews", Some(&owner))
        .await;
    reviews.expect_status(200);
    assert_eq!(reviews.json["reviews"].as_array().unwrap().len(), 1);
    let long = "x".repeat(2_001);
    server
        .http()
        .post(
            "/api/v1/charter/reviews",
            Some(&owner),
            json!({"note": long}),
        )
        .await
        .expect_error(422, "invalid_request");
    server.shutdown().await;
}
