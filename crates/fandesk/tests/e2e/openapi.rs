//! The OpenAPI document against the router that serves it (docs/api.md): every documented
//! path and method is served by a handler (no fallback answers it) with a documented
//! status, and every other method on a documented path is refused with 405
//! `method_not_allowed` whose `Allow` header names exactly the documented methods.

use fandesk_testkit::{OWNER_EMAIL, OWNER_PASSWORD, TestServer};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// The path with every `{parameter}` replaced by an id that exists nowhere.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "nowhere"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_exactly_the_served_routes() {
    let server = TestServer::spawn().await;
    let reply = server.http().get("/api/v1/openapi.json", None).await;
    reply.expect_status(200);
    let paths = reply.json["paths"].as_object().expect("paths").clone();
    assert!(paths.len() > 40, "{} paths", paths.len());
    let client = reqwest::Client::new();
    let mut wrong = Vec::new();
    for (path, item) in &paths {
        let documented: BTreeSet<String> = METHODS
            .iter()
            .map(|method| method.as_str().to_owned())
            .filter(|method| item.get(method.to_lowercase()).is_some())
            .collect();
        assert!(!documented.is_empty(), "{path} documents no method");
        for method in METHODS {
            // Logout revokes the token it is given: it gets one of its own.
            let token = if path.ends_with("/logout") {
                server.login(OWNER_EMAIL, OWNER_PASSWORD).await.0
            } else {
                server.owner_token().to_owned()
            };
            let mut request = client
                .request(method.clone(), server.url(&concrete(path)))
                .bearer_auth(token);
            if method != Method::GET && method != Method::DELETE {
                request = request
                    .header("content-type", "application/json")
                    .body("{}");
            }
            let response = request.send().await.expect("a response");
            let status = response.status().as_u16();
            let allow = response
                .headers()
                .get("allow")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let message = body.pointer("/error/message").and_then(Value::as_str);
            let label = format!("{method} {path} → {status} {body}");
            if documented.contains(method.as_str()) {
                let operation = &item[method.as_str().to_lowercase()];
                if status == 405 || (status == 404 && message == Some("route not found")) {
                    wrong.push(format!("{label}: documented but not served"));
                } else if operation["responses"].get(status.to_string()).is_none() {
                    wrong.push(format!("{label}: status not documented"));
                }
            } else {
                let mut allowed: BTreeSet<String> = allow
                    .iter()
                    .flat_map(|allow| allow.split(','))
                    .map(|method| method.trim().to_owned())
                    .filter(|method| method != "HEAD")
                    .collect();
                allowed.retain(|method| !method.is_empty());
                if status != 405
                    || body.pointer("/error/code") != Some(&"method_not_allowed".into())
                {
                    wrong.push(format!("{label}: served but not documented"));
                } else if allowed != documented {
                    wrong.push(format!(
                        "{label}: Allow {allow:?}, documented {documented:?}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_names_each_operation_once_and_describes_every_answer() {
    let server = TestServer::spawn().await;
    let reply = server.http().get("/api/v1/openapi.json", None).await;
    reply.expect_status(200);
    let mut ids = BTreeSet::new();
    for (path, item) in reply.json["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId {id:?} again"
            );
            for (status, answer) in operation["responses"].as_object().expect("responses") {
                let description = answer["description"].as_str().unwrap_or_default();
                assert!(
                    !description.is_empty(),
                    "{method} {path} {status}: no description"
                );
            }
        }
    }
    server.shutdown().await;
}
