//! The matrix's server and fixtures: one member of every role, a fresh object for every
//! cell (so no cell sees what an earlier one changed), the body each operation is sent,
//! and the state of the object as the server reports it (for the domain's rules).

use super::expect::{Caller, Variant};
use super::table::Object;
use fandesk_domain::room::RoomState;
use fandesk_domain::{ConversationState, FanId, MemberId, Role, Status};
use fandesk_http::client::FanPolicy;
use fandesk_testkit::{
    HttpConfig, METRICS_TOKEN, OWNER_EMAIL, OWNER_PASSWORD, TestServer, random_hex,
};
use serde_json::{Value, json};

/// The id that exists nowhere, for missing objects.
pub const NOWHERE: &str = "nowhere";

/// A server with one member of each role and another agent (who holds the "other"
/// conversations).
pub struct World {
    pub server: TestServer,
    members: Vec<(Role, String, String)>,
    pub other_agent: String,
    /// A conversation canned responses are rendered for.
    pub base_conversation: String,
}

/// Who calls one cell: their token (none for anonymous) and id.
pub struct Actor {
    pub caller: Caller,
    pub token: Option<String>,
    pub id: String,
}

/// The object one cell names and what the server says of it.
#[derive(Default)]
pub struct Target {
    /// Values of the path's `{…}` parameters.
    pub params: Vec<(&'static str, String)>,
    pub conversation: Option<ConversationState>,
    pub room: Option<RoomState>,
    /// A fan who is not the caller (time-outs name them).
    pub subject_fan: String,
}

impl World {
    pub async fn new() -> World {
        let config = HttpConfig {
            metrics_token: Some(METRICS_TOKEN.to_owned()),
            fans: FanPolicy {
                sessions_per_address_per_minute: 1_000_000,
                messages_per_fan_per_minute: 1_000_000,
                messages_per_address_per_minute: 1_000_000,
            },
            ..HttpConfig::default()
        };
        let server = TestServer::spawn_with(config).await;
        let owner = server.owner_token().to_owned();
        let me = server.http().get("/api/v1/me", Some(&owner)).await;
        me.expect_status(200);
        let owner_id = me.json["id"].as_str().expect("owner id").to_owned();
        let mut members = vec![(Role::Owner, owner, owner_id)];
        for role in Role::ALL.into_iter().filter(|role| *role != Role::Owner) {
            let (token, id) = server.create_member(role.as_str()).await;
            members.push((role, token, id));
        }
        let other_agent = server.create_member("agent").await.1;
        let (fan, _) = server.fan_session("Base fan").await;
        let base_conversation = server.open_conversation(&fan).await;
        World {
            server,
            members,
            other_agent,
            base_conversation,
        }
    }

    fn owner(&self) -> &str {
        self.server.owner_token()
    }

    fn member(&self, role: Role) -> (&str, &str) {
        let (_, token, id) = self
            .members
            .iter()
            .find(|(held, _, _)| *held == role)
            .expect("a member of every role");
        (token, id)
    }

    /// The caller of one cell; `fresh` gives a token of its own (logout revokes it).
    pub async fn actor(&self, caller: Caller, fresh: bool) -> Actor {
        let (token, id) = match caller {
            Caller::Member(Role::Owner) if fresh => {
                let (token, member) = self.server.login(OWNER_EMAIL, OWNER_PASSWORD).await;
                (
                    Some(token),
                    member["id"].as_str().unwrap_or_default().to_owned(),
                )
            }
            Caller::Member(role) if fresh => {
                let (token, id) = self.server.create_member(role.as_str()).await;
                (Some(token), id)
            }
            Caller::Member(role) => {
                let (token, id) = self.member(role);
                (Some(token.to_owned()), id.to_owned())
            }
            Caller::Fan => {
                let (token, id) = self.server.fan_session("Matrix fan").await;
                (Some(token), id)
            }
            Caller::Anonymous => (None, String::new()),
        };
        Actor { caller, token, id }
    }

    async fn owner_post(&self, path: &str, body: Value) -> Value {
        let reply = self
            .server
            .http()
            .post(path, Some(self.owner()), body)
            .await;
        assert!(
            reply.is_success(),
            "fixture {path}: {} {}",
            reply.status,
            reply.text()
        );
        reply.json
    }

    async fn created_id(&self, path: &str, body: Value) -> String {
        let created = self.owner_post(path, body).await;
        created["id"].as_str().expect("an id").to_owned()
    }

    /// The object `variant` names for `actor`, made afresh.
    pub async fn target(&self, object: Object, variant: Variant, actor: &Actor) -> Target {
        let (_, subject_fan) = self.server.fan_session("Subject fan").await;
        let mut target = Target {
            subject_fan,
            ..Target::default()
        };
        let missing = variant == Variant::Missing;
        let id = match object {
            Object::None => return target,
            Object::Conversation => {
                if missing {
                    NOWHERE.to_owned()
                } else {
                    let id = self.conversation(variant, actor).await;
                    target.conversation = Some(self.conversation_state(&id).await);
                    id
                }
            }
            Object::FanProfile => match variant {
                Variant::Missing => NOWHERE.to_owned(),
                Variant::Own => actor.id.clone(),
                _ => target.subject_fan.clone(),
            },
            Object::Room | Object::RoomMessage => {
                let room = self.open_room().await;
                if object == Object::RoomMessage {
                    let message = if missing {
                        NOWHERE.to_owned()
                    } else {
                        let path = format!("/api/v1/rooms/{room}/messages");
                        let body = json!({"client_msg_id": client_id(), "body": "hello room"});
                        let posted = self.owner_post(&path, body).await;
                        posted["id"].as_str().expect("message id").to_owned()
                    };
                    target.params.push(("message_id", message));
                    target.room = Some(RoomState::Open);
                    room
                } else if missing {
                    NOWHERE.to_owned()
                } else {
                    target.room = Some(RoomState::Open);
                    room
                }
            }
            Object::Question => {
                let starts_at = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1);
                let body = json!({"title": "Matrix Q&A", "kind": "live", "qa": true,
                    "starts_at": starts_at.to_string(), "duration_secs": 3600});
                let event = self.created_id("/api/v1/events", body).await;
                let question = if missing {
                    NOWHERE.to_owned()
                } else {
                    let (fan, _) = self.server.fan_session("Asking fan").await;
                    let path = format!("/api/v1/events/{event}/questions");
                    let body = json!({"client_msg_id": client_id(), "body": "Matrix question?"});
                    let reply = self
                        .server
                        .http()
                        .post(&path, Some(fan.as_str()), body)
                        .await;
                    assert_eq!(reply.status, 201, "fixture {path}: {}", reply.text());
                    reply.json["id"].as_str().expect("question id").to_owned()
                };
                target.params.push(("question_id", question));
                event
            }
            Object::ChannelMessage => {
                let channel = self.fresh_channel().await;
                let root = if missing {
                    NOWHERE.to_owned()
                } else {
                    self.channel_post(&channel, "a thread's root").await
                };
                target.params.push(("root_id", root));
                channel
            }
            _ if missing => match object {
                Object::CharterVersion => "9999".to_owned(),
                _ => NOWHERE.to_owned(),
            },
            Object::Canned => {
                let body = json!({"shortcut": format!("m{}", &random_hex()[..8]),
                    "title": "Matrix", "body": "Hello there"});
                self.created_id("/api/v1/canned-responses", body).await
            }
            Object::Shift => {
                let body = json!({"name": format!("shift {}", random_hex()), "weekdays": ["mon"],
                    "start": "08:00", "end": "10:00"});
                self.created_id("/api/v1/shifts", body).await
            }
            Object::KeywordRule => {
                let body =
                    json!({"name": format!("rule {}", random_hex()), "patterns": ["refund"]});
                self.created_id("/api/v1/keyword-rules", body).await
            }
            Object::RestrictedRule => {
                let word = format!("w{}", &random_hex()[..10]);
                let body = json!({"pattern": word, "action": "warn"});
                self.created_id("/api/v1/restricted-rules", body).await
            }
            Object::Webhook => self.created_id("/api/v1/webhooks", webhook()).await,
            Object::ApiToken => self.created_id("/api/v1/api-tokens", api_token()).await,
            Object::Alert => self.open_alert().await,
            Object::Flow => self.created_id("/api/v1/flows", flow()).await,
            Object::Event => self.created_id("/api/v1/events", event()).await,
            Object::ScheduledMessage => {
                self.created_id("/api/v1/scheduled-messages", scheduled_message())
                    .await
            }
            Object::ScheduledReply => {
                let (fan, _) = self.server.fan_session("Later fan").await;
                let conversation = self.server.open_conversation(&fan).await;
                let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
                let path = format!("/api/v1/conversations/{conversation}/messages");
                let body = json!({"client_msg_id": client_id(), "body": "later", "send_at": at.to_string()});
                let scheduled = self.owner_post(&path, body).await;
                scheduled["scheduled_id"]
                    .as_str()
                    .expect("scheduled id")
                    .to_owned()
            }
            Object::Channel => self.fresh_channel().await,
            Object::Decision => {
                let channel = self.fresh_channel().await;
                self.channel_post(&channel, "DECISION: matrix decision")
                    .await;
                let path = format!("/api/v1/decisions?channel_id={channel}");
                let reply = self.server.http().get(&path, Some(self.owner())).await;
                reply.expect_status(200);
                reply.json["items"][0]["id"]
                    .as_str()
                    .expect("decision id")
                    .to_owned()
            }
            Object::Member => self.other_agent.clone(),
            Object::CharterVersion => "1".to_owned(),
        };
        target.params.insert(0, ("id", id));
        target
    }

    /// A new open alert: a fan's new conversation says a word of the charter's default
    /// keyword rules; the alert follows the commit, so it is waited for.
    async fn open_alert(&self) -> String {
        let (fan, _) = self.server.fan_session("Alerting fan").await;
        let conversation = self.server.open_conversation(&fan).await;
        self.server
            .post_message(
                &fan,
                &conversation,
                &client_id(),
                "I want to cancel it all",
                None,
            )
            .await
            .expect_status(201);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let listed = self
                .server
                .http()
                .get("/api/v1/alerts?limit=200", Some(self.owner()))
                .await;
            let found = listed.json["alerts"].as_array().and_then(|alerts| {
                alerts
                    .iter()
                    .find(|alert| alert["conversation_id"] == conversation.as_str())
                    .and_then(|alert| alert["id"].as_str().map(str::to_owned))
            });
            if let Some(id) = found {
                return id;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no keyword alert for {conversation}: {}",
                listed.text()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A new open channel of the whole team. When the charter's limit of active channels
    /// is reached (the matrix makes many), the active ones are archived first.
    async fn fresh_channel(&self) -> String {
        let body = json!({"name": format!("matrix {}", random_hex()), "purpose": "The matrix"});
        let http = self.server.http();
        let created = http
            .post("/api/v1/channels", Some(self.owner()), body.clone())
            .await;
        if created.status != 409 {
            created.expect_status(201);
            return created.json["id"].as_str().expect("channel id").to_owned();
        }
        let active = http.get("/api/v1/channels", Some(self.owner())).await;
        for channel in active.json["channels"].as_array().expect("channels") {
            let id = channel["id"].as_str().expect("id");
            let path = format!("/api/v1/channels/{id}/archive");
            http.post_empty(&path, Some(self.owner()))
                .await
                .expect_status(200);
        }
        self.created_id("/api/v1/channels", body).await
    }

    /// Posts `body` in `channel` as the owner; returns the message id.
    async fn channel_post(&self, channel: &str, body: &str) -> String {
        let path = format!("/api/v1/channels/{channel}/messages");
        let posted = self
            .owner_post(&path, json!({"client_msg_id": client_id(), "body": body}))
            .await;
        posted["id"].as_str().expect("message id").to_owned()
    }

    /// A new conversation: the fan caller's own, or one assigned to the member caller
    /// (`Own`), or another fan's assigned to another agent (`Other`).
    async fn conversation(&self, variant: Variant, actor: &Actor) -> String {
        let id = match (variant, actor.caller, &actor.token) {
            (Variant::Own, Caller::Fan, Some(token)) => self.server.open_conversation(token).await,
            _ => {
                let (fan, _) = self.server.fan_session("Subject fan").await;
                self.server.open_conversation(&fan).await
            }
        };
        self.server.app().settle_desk().await;
        let assignee = match (variant, actor.caller) {
            (Variant::Own, Caller::Member(role)) if role.is_human() => Some(actor.id.clone()),
            (Variant::Other, _) => Some(self.other_agent.clone()),
            _ => None,
        };
        let current = self.conversation_state(&id).await;
        if let Some(member) = assignee
            && current.assignee_id.as_ref().map(MemberId::as_str) != Some(member.as_str())
        {
            let path = format!("/api/v1/conversations/{id}/assign");
            self.owner_post(&path, json!({"member_id": member})).await;
        }
        self.server.app().settle_desk().await;
        id
    }

    /// The conversation as the team sees it, as the domain's state.
    pub async fn conversation_state(&self, id: &str) -> ConversationState {
        let reply = self
            .server
            .http()
            .get(&format!("/api/v1/conversations/{id}"), Some(self.owner()))
            .await;
        reply.expect_status(200);
        let view = &reply.json;
        let member = |key: &str| view[key].as_str().map(MemberId::from);
        ConversationState {
            fan_id: FanId::from(view["fan_id"].as_str().expect("fan_id")),
            status: Status::parse(view["status"].as_str().expect("status")).expect("a status"),
            assignee_id: member("assignee_id"),
            escalated: view["escalated"].as_bool().expect("escalated"),
            escalated_to: member("escalated_to"),
            observer_id: member("observer_id"),
        }
    }

    async fn open_room(&self) -> String {
        let room = self
            .created_id("/api/v1/rooms", json!({"title": "Matrix room"}))
            .await;
        self.owner_post(&format!("/api/v1/rooms/{room}/open"), json!({}))
            .await;
        room
    }

    /// The charter's current version (the base a save names).
    pub async fn charter_version(&self) -> i64 {
        let reply = self
            .server
            .http()
            .get("/api/v1/charter", Some(self.owner()))
            .await;
        reply.json["version"].as_i64().unwrap_or(1)
    }

    /// The role of `member` (an assignment's target).
    pub fn role_of(&self, member: &str) -> Role {
        self.members
            .iter()
            .find(|(_, _, id)| id == member)
            .map(|(role, _, _)| *role)
            .unwrap_or(Role::Agent)
    }

    /// Whom an assignment by `actor` names: themselves if they may be assigned, else the
    /// other agent.
    pub fn assignee_for(&self, actor: &Actor) -> String {
        match actor.caller {
            Caller::Member(role) if role.is_human() => actor.id.clone(),
            _ => self.other_agent.clone(),
        }
    }
}

/// A fresh idempotency key.
pub fn client_id() -> String {
    format!("c-{}", random_hex())
}

/// An integration API token acting as an agent.
pub fn api_token() -> Value {
    json!({"name": format!("matrix {}", random_hex()), "role": "agent"})
}

/// A webhook to a public address (nothing listens: deliveries fail in the background).
pub fn webhook() -> Value {
    json!({"url": "http://93.184.216.34/hook", "events": ["message.created"],
        "secret": "matrix-secret-0123456789"})
}

/// A flow that greets and ends, so activating it leaves the matrix's conversations to
/// their usual routing.
pub fn flow() -> Value {
    json!({"source": "name: Matrix\nstart: hello\nsteps:\n  hello:\n    say: Hello!\n    end: true\n"})
}

/// A live event an hour from now, for an hour.
pub fn event() -> Value {
    let starts_at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    json!({"title": "Matrix event", "kind": "live", "starts_at": starts_at.to_string(),
        "duration_secs": 3600})
}

/// A message for every fan an hour from now.
pub fn scheduled_message() -> Value {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    json!({"body": "Matrix news", "audience": {"all": true}, "at": at.to_string()})
}
