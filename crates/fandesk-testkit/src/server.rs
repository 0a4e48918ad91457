//! `TestServer`: the real HTTP + WebSocket server on `127.0.0.1:0`, in-process, on a
//! database of its own (SQLite in a `TempDir`, or a PostgreSQL schema when
//! `FANDESK_TEST_POSTGRES_URL` is set), with the owner bootstrapped and logged in.

use crate::database::{TestDatabase, random_hex};
use crate::http::{HttpClient, Reply};
use fandesk_http::HttpConfig;
use fandesk_service::{App, Clock, Config, SystemClock};
use fandesk_store::Store;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const OWNER_EMAIL: &str = "owner@fandesk.test";
pub const OWNER_PASSWORD: &str = "owner-password-1";
/// The password of every member created by [`TestServer::create_member`].
/// The `/metrics` bearer token of [`TestServer::spawn`].
pub const METRICS_TOKEN: &str = "metrics-token-for-tests";
pub const MEMBER_PASSWORD: &str = "member-password-1";

/// Largest page the message list returns; [`TestServer::history`] pages with it.
const PAGE: usize = 200;

pub struct TestServer {
    addr: SocketAddr,
    http: HttpClient,
    app: App,
    store: Store,
    stop: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
    owner_token: String,
    /// Numbers members so their emails and names are unique and readable.
    members: AtomicUsize,
    /// Declared last so it is dropped (and a PostgreSQL schema removed) last.
    database: TestDatabase,
}

impl TestServer {
    /// A server with the default HTTP settings, and [`METRICS_TOKEN`] for `/metrics`.
    pub async fn spawn() -> TestServer {
        let config = HttpConfig {
            metrics_token: Some(METRICS_TOKEN.to_owned()),
            ..HttpConfig::default()
        };
        TestServer::spawn_with(config).await
    }

    /// A server with `config` (small WebSocket queues, allowed origins, …).
    pub async fn spawn_with(config: HttpConfig) -> TestServer {
        TestServer::spawn_service(config, Config::default(), Arc::new(SystemClock)).await
    }

    /// A server with service settings of its own and an injected clock (a
    /// `fandesk_service::ManualClock` makes timers testable without sleeping).
    pub async fn spawn_service(
        config: HttpConfig,
        service: Config,
        clock: Arc<dyn Clock>,
    ) -> TestServer {
        match TestServer::try_spawn(config, service, clock).await {
            Ok(server) => server,
            Err(error) => panic!("TestServer::spawn failed: {error:#}"),
        }
    }

    async fn try_spawn(
        config: HttpConfig,
        service: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<TestServer> {
        let database = TestDatabase::fresh()?;
        let store = database.open().await?;
        let bus = Arc::new(fandesk_bus::LocalBus::new());
        let app = App::start(store.clone(), bus, service, clock);
        app.bootstrap_owner(OWNER_EMAIL, OWNER_PASSWORD).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(fandesk_http::serve(
            listener,
            app.clone(),
            config,
            stop.clone(),
        ));
        let http = HttpClient::new(format!("http://{addr}"));
        let mut server = TestServer {
            addr,
            http,
            app,
            store,
            stop,
            task: Some(task),
            owner_token: String::new(),
            members: AtomicUsize::new(0),
            database,
        };
        server.owner_token = server.login(OWNER_EMAIL, OWNER_PASSWORD).await.0;
        Ok(server)
    }

    /// The server's database (e.g. to inject a fault with [`TestDatabase::refuse_body`]).
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.database.backend()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        self.http.url(path)
    }

    /// The WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The service behind the server, for checks the API does not expose.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The server's store, for a second `App` on the same database (another node) and for checks the API
    /// does not expose (jobs, leases).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn owner_token(&self) -> &str {
        &self.owner_token
    }

    /// Logs in; panics unless it succeeds. Returns the token and the member object.
    pub async fn login(&self, email: &str, password: &str) -> (String, Value) {
        self.http.login(email, password).await
    }

    /// Creates a room (as the owner) and opens it; returns its id.
    pub async fn open_room(&self, title: &str) -> String {
        let owner = Some(self.owner_token.as_str());
        let created = self
            .http
            .post("/api/v1/rooms", owner, json!({"title": title}))
            .await;
        created.expect_status(201);
        let room = created.json["id"].as_str().expect("room id").to_owned();
        self.http
            .post_empty(&format!("/api/v1/rooms/{room}/open"), owner)
            .await
            .expect_status(200);
        room
    }

    /// Creates a member with `role` (as the owner) and logs them in: `(token, id)`.
    pub async fn create_member(&self, role: &str) -> (String, String) {
        let number = self.members.fetch_add(1, Ordering::Relaxed) + 1;
        self.create_member_named(role, &format!("{role} {number}"))
            .await
    }

    /// Like [`Self::create_member`] with a chosen display name.
    pub async fn create_member_named(&self, role: &str, name: &str) -> (String, String) {
        let email = format!("{}-{}@fandesk.test", role.replace('_', "-"), random_hex());
        let reply = self
            .http
            .post(
                "/api/v1/members",
                Some(&self.owner_token),
                json!({"email": email, "name": name, "role": role, "password": MEMBER_PASSWORD}),
            )
            .await;
        reply.expect_status(201);
        let id = reply.json["id"].as_str().expect("member id").to_owned();
        let (token, member) = self.login(&email, MEMBER_PASSWORD).await;
        assert_eq!(
            member["id"],
            id.as_str(),
            "login returns the created member"
        );
        (token, id)
    }

    /// A new anonymous fan: `(token, fan_id)`.
    pub async fn fan_session(&self, name: &str) -> (String, String) {
        self.http.fan_session(name).await
    }

    /// Opens (or continues) the fan's conversation; returns its id.
    pub async fn open_conversation(&self, fan_token: &str) -> String {
        self.http.open_conversation(fan_token).await
    }

    /// `POST /conversations/{id}/messages`.
    pub async fn post_message(
        &self,
        token: &str,
        conversation: &str,
        client_msg_id: &str,
        body: &str,
        visibility: Option<&str>,
    ) -> Reply {
        let mut request = json!({"client_msg_id": client_msg_id, "body": body});
        if let Some(visibility) = visibility {
            request["visibility"] = json!(visibility);
        }
        let path = format!("/api/v1/conversations/{conversation}/messages");
        self.http.post(&path, Some(token), request).await
    }

    /// The whole timeline as `token` sees it, paged with `after_seq`; also returns every
    /// byte of every page (for leak scans).
    pub async fn history_with_bytes(
        &self,
        token: &str,
        conversation: &str,
    ) -> (Vec<Value>, Vec<u8>) {
        let mut messages: Vec<Value> = Vec::new();
        let mut bytes = Vec::new();
        let mut after = 0;
        loop {
            let path = format!(
                "/api/v1/conversations/{conversation}/messages?after_seq={after}&limit={PAGE}"
            );
            let reply = self.http.get(&path, Some(token)).await;
            reply.expect_status(200);
            bytes.extend_from_slice(&reply.bytes);
            let page = reply.json["messages"]
                .as_array()
                .cloned()
                .expect("messages array");
            let count = page.len();
            if let Some(last) = page.last() {
                after = last["seq"].as_u64().expect("seq");
            }
            messages.extend(page);
            if count < PAGE {
                return (messages, bytes);
            }
        }
    }

    /// The whole timeline as `token` sees it.
    pub async fn history(&self, token: &str, conversation: &str) -> Vec<Value> {
        self.history_with_bytes(token, conversation).await.0
    }

    /// Stops the server gracefully: open WebSockets close with 1001, queued writes
    /// commit, the store closes; then the database is removed.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(30), task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(error))) => panic!("server returned an error: {error}"),
                Ok(Err(error)) => panic!("server task failed: {error}"),
                Err(_) => panic!("server did not shut down within 30 s"),
            }
        }
        self.app.shutdown().await;
        self.store.close().await;
    }

    /// Starts the graceful stop without waiting (to watch clients during shutdown).
    pub fn begin_shutdown(&self) {
        self.stop.cancel();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A test that failed before `shutdown()`: stop serving so the port and the
        // connections go away with the test.
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
