//! A tiny JSON HTTP client for tests: every call returns the status, the parsed body and
//! the raw bytes (so leak scans can search exactly what a client received).

use anyhow::Context;
use reqwest::Method;
use serde_json::Value;

/// One HTTP response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    /// The body parsed as JSON, or `Value::Null` when it is empty or not JSON.
    pub json: Value,
    /// The body exactly as received.
    pub bytes: Vec<u8>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
}

impl Reply {
    /// The body as text (lossy), for assertions on non-JSON endpoints and messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// `error.code` of an API error body (docs/api.md › Errors).
    pub fn error_code(&self) -> Option<&str> {
        self.json.pointer("/error/code").and_then(Value::as_str)
    }

    /// `error.message` of an API error body.
    pub fn error_message(&self) -> Option<&str> {
        self.json.pointer("/error/message").and_then(Value::as_str)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Panics unless the status is `expected`, showing the body.
    #[track_caller]
    pub fn expect_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status,
            expected,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// Panics unless this is an API error (docs/api.md › Errors) with `status` and `code`,
    /// shaped `{"error":{"code","message","details"}}`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect_status(status);
        assert_eq!(
            self.error_code(),
            Some(code),
            "error code; body: {}",
            self.text()
        );
        let error = &self.json["error"];
        assert!(
            error["message"].is_string(),
            "error.message must be a string: {}",
            self.text()
        );
        assert!(
            error.get("details").is_some(),
            "error.details must be present: {}",
            self.text()
        );
        self
    }
}

/// The request body.
pub enum Body {
    Json(Value),
    /// Bytes sent as `application/json` as they are (malformed JSON tests).
    Raw(Vec<u8>),
}

/// A JSON client bound to one server's base URL.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    base: String,
}

impl HttpClient {
    /// `base` is `http://HOST:PORT`, without a trailing slash.
    pub fn new(base: impl Into<String>) -> HttpClient {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("build HTTP client");
        HttpClient {
            client,
            base: base.into(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `base` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends one request; transport errors (server gone, connection reset) are `Err`.
    pub async fn try_request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Body>,
    ) -> anyhow::Result<Reply> {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Some(Body::Json(value)) => request.json(&value),
            Some(Body::Raw(bytes)) => request
                .header("content-type", "application/json")
                .body(bytes),
            None => request,
        };
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .with_context(|| format!("{method} {path}: body"))?
            .to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            json,
            bytes,
            content_type,
        })
    }

    /// Like [`Self::try_request`], panicking on transport errors.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Body>,
    ) -> Reply {
        match self.try_request(method, path, token, body).await {
            Ok(reply) => reply,
            Err(error) => panic!("HTTP request failed: {error:#}"),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(Body::Json(body)))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::DELETE, path, token, None).await
    }

    /// POST with no body at all (actions such as resolve and logout).
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::POST, path, token, None).await
    }

    /// Logs a team member in with their password; panics unless the login answers 200.
    /// Returns the session token and the member object.
    pub async fn login(&self, email: &str, password: &str) -> (String, Value) {
        let reply = self
            .post(
                "/api/v1/auth/login",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        reply.expect_status(200);
        let token = reply.json["token"].as_str().expect("login token");
        (token.to_owned(), reply.json["member"].clone())
    }

    /// A new fan session named `name`: `(token, fan id)`.
    pub async fn fan_session(&self, name: &str) -> (String, String) {
        let reply = self
            .post(
                "/api/v1/fan-sessions",
                None,
                serde_json::json!({"display_name": name}),
            )
            .await;
        reply.expect_status(201);
        let token = reply.json["token"].as_str().expect("fan token").to_owned();
        let id = reply.json["fan"]["id"].as_str().expect("fan id").to_owned();
        (token, id)
    }

    /// Opens (or continues) the fan's conversation; returns its id.
    pub async fn open_conversation(&self, fan_token: &str) -> String {
        let reply = self
            .post(
                "/api/v1/conversations",
                Some(fan_token),
                serde_json::json!({}),
            )
            .await;
        assert!(
            matches!(reply.status, 200 | 201),
            "open conversation: {} {}",
            reply.status,
            reply.text()
        );
        reply.json["id"]
            .as_str()
            .expect("conversation id")
            .to_owned()
    }

    /// POST of raw bytes labelled `application/json`.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        bytes: impl Into<Vec<u8>>,
    ) -> Reply {
        self.request(Method::POST, path, token, Some(Body::Raw(bytes.into())))
            .await
    }
}
