//! Seeds the demo workspace through the service layer: the team (every role), keyword and
//! restricted-word rules, canned responses, 50 fans with profiles and three days of
//! history (resolved, escalated, whispered, in progress and waiting conversations), then
//! shifts and clock-ins so routing runs as on a real floor. The history is replayed in
//! time order with the demo clock wound back to each step's moment.

use super::script::{self, CANNED, FANS, Random, TEAM};
use super::{DemoClock, PASSWORD};
use anyhow::Context;
use fandesk_service::view::ConversationView;
use fandesk_service::{
    App, CannedInput, FanProfilePatch, NewFanSession, NewMember, Principal, SendMessage,
    ServiceError, ShiftInput,
};
use std::collections::BTreeMap;

const OWNER: usize = 0;
const SUPERVISOR: usize = 1;
const LEAD: usize = 2;
/// Ana, Ben and Chloé.
const AGENTS: [usize; 3] = [3, 4, 5];
/// Fans `0..HISTORY` only have past, resolved conversations; the next `ACTIVE` are being
/// worked right now; the rest wait in the queue.
const HISTORY: usize = 38;
const ACTIVE: usize = 9;
/// Concurrent conversations per agent: the seeded floor fills it, so new fans queue.
const CAPACITY: i64 = 3;

/// A seeded fan whose conversation is still open (the traffic generator continues it).
#[derive(Clone)]
pub struct FanHandle {
    pub principal: Principal,
    pub conversation_id: String,
}

/// What the demo needs after seeding.
pub struct Seeded {
    /// `(role, email)` for the banner.
    pub logins: Vec<(String, String)>,
    pub fan_count: usize,
    /// The team in [`TEAM`] order.
    pub team: Vec<Principal>,
    pub fans: Vec<FanHandle>,
}

enum Act {
    FanSays(&'static str),
    Reply(usize, &'static str),
    Whisper(&'static str),
    Escalate(usize),
    Resolve(usize),
}

struct Step {
    seconds_ago: i64,
    fan: usize,
    act: Act,
}

struct FanState {
    principal: Principal,
    conversation: Option<String>,
}

struct Seeder<'a> {
    app: &'a App,
    team: Vec<Principal>,
    fans: Vec<Option<FanState>>,
    sent: u64,
}

pub async fn seed(app: &App, clock: &DemoClock) -> anyhow::Result<Seeded> {
    let mut random = Random::new(0x00fa_dec5);
    // The team and the rules exist before the oldest history.
    clock.rewind_to(80 * 3600);
    let team = create_team(app).await?;
    create_rules(app, &team[OWNER]).await?;
    let mut seeder = Seeder {
        app,
        team,
        fans: (0..FANS.len()).map(|_| None).collect(),
        sent: 0,
    };
    let mut steps = history(&mut random);
    steps.sort_by_key(|step| std::cmp::Reverse(step.seconds_ago));
    for step in steps {
        clock.rewind_to(step.seconds_ago);
        seeder
            .perform(step.fan, step.act)
            .await
            .with_context(|| format!("seeding fan {}", FANS[step.fan].0))?;
        // Routing, scores and timers run at the step's moment, as they would have.
        app.settle_desk().await;
    }
    clock.rewind_to(0);
    staff_the_floor(app, &seeder.team).await?;
    app.settle_desk().await;
    let fans = seeder
        .fans
        .iter()
        .skip(HISTORY)
        .flatten()
        .filter_map(|fan| {
            let conversation_id = fan.conversation.clone()?;
            Some(FanHandle {
                principal: fan.principal.clone(),
                conversation_id,
            })
        })
        .collect();
    let logins = TEAM
        .iter()
        .map(|(_, role, email)| (role.replace('_', " "), (*email).to_owned()))
        .collect();
    Ok(Seeded {
        logins,
        fan_count: FANS.len(),
        team: seeder.team,
        fans,
    })
}

async fn create_team(app: &App) -> anyhow::Result<Vec<Principal>> {
    let (_, _, owner_email) = TEAM[OWNER];
    app.bootstrap_owner(owner_email, PASSWORD).await?;
    let owner = principal(app, owner_email).await?;
    let mut team = vec![owner.clone()];
    for (name, role, email) in TEAM.iter().skip(1) {
        let member = NewMember {
            email: (*email).to_owned(),
            name: (*name).to_owned(),
            role: (*role).to_owned(),
            password: PASSWORD.to_owned(),
        };
        app.create_member(&owner, member).await?;
        team.push(principal(app, email).await?);
    }
    Ok(team)
}

async fn principal(app: &App, email: &str) -> anyhow::Result<Principal> {
    let login = app.login(email, PASSWORD).await?;
    Ok(app.authenticate(&login.token).await?.principal)
}

async fn create_rules(app: &App, owner: &Principal) -> anyhow::Result<()> {
    // `cancel`, `refund` and `complaint` are built in; these are the creator's own.
    app.create_keyword_rule(
        owner,
        "chargeback",
        &["chargeback".to_owned(), "dispute".to_owned()],
    )
    .await?;
    app.create_keyword_rule(owner, "purchase", &["buy".to_owned(), "order".to_owned()])
        .await?;
    app.create_restricted_rule(owner, "paypal me", "block")
        .await?;
    app.create_restricted_rule(owner, "guarantee", "warn")
        .await?;
    for (shortcut, title, body) in CANNED {
        let input = CannedInput {
            shortcut: Some(shortcut.to_owned()),
            title: Some(title.to_owned()),
            body: Some(body.to_owned()),
        };
        app.create_canned(owner, input).await?;
    }
    Ok(())
}

/// Shifts around the clock in the creator's zone, everyone clocked in, and agents'
/// capacity: new conversations are routed to agents with room, the rest queue.
async fn staff_the_floor(app: &App, team: &[Principal]) -> anyhow::Result<()> {
    let owner = &team[OWNER];
    let id = |index: usize| team[index].author_id().to_owned();
    let every_day: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(String::from)
        .to_vec();
    let shifts = [
        (
            "Early",
            "06:00",
            "14:00",
            vec![id(3), id(4), id(SUPERVISOR)],
        ),
        ("Late", "14:00", "22:00", vec![id(5), id(3), id(LEAD)]),
        ("Night", "22:00", "06:00", vec![id(4), id(5)]),
    ];
    // Capacity first: creating a shift offers the queue to whoever is on it.
    for agent in AGENTS {
        app.set_capacity(owner, &id(agent), CAPACITY).await?;
    }
    for (name, start, end, members) in shifts {
        let input = ShiftInput {
            name: Some(name.to_owned()),
            weekdays: Some(every_day.clone()),
            start: Some(start.to_owned()),
            end: Some(end.to_owned()),
            member_ids: Some(members),
        };
        app.create_shift(owner, input).await?;
    }
    for member in [SUPERVISOR, LEAD, 3, 4, 5] {
        app.clock(&team[member], true).await?;
    }
    Ok(())
}

/// The seeded timeline, unordered: `(seconds ago, fan, act)`.
fn history(random: &mut Random) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut add = |seconds_ago: i64, fan: usize, act: Act| {
        steps.push(Step {
            seconds_ago,
            fan,
            act,
        })
    };
    for fan in 0..FANS.len() {
        let agent = AGENTS[fan % AGENTS.len()];
        if fan < HISTORY {
            // One or two past conversations, resolved (some escalated first).
            let mut starts = vec![random.range(2 * 3600, 46 * 3600)];
            if fan.is_multiple_of(4) {
                starts.push(random.range(50 * 3600, 72 * 3600));
            }
            for start in starts {
                let mut at = start;
                add(at, fan, Act::FanSays(random.pick(&script::OPENERS)));
                at -= random.range(15, 150);
                add(
                    at,
                    fan,
                    Act::Reply(agent, random.pick(&script::FIRST_REPLIES)),
                );
                at -= random.range(30, 400);
                add(at, fan, Act::FanSays(random.pick(&script::FOLLOW_UPS)));
                let closer = if fan % 7 == 3 {
                    at -= random.range(20, 90);
                    add(at, fan, Act::Escalate(agent));
                    at -= random.range(60, 600);
                    add(
                        at,
                        fan,
                        Act::Reply(
                            LEAD,
                            "I'm the escalation lead — I've sorted this out personally for you.",
                        ),
                    );
                    LEAD
                } else {
                    at -= random.range(20, 120);
                    add(at, fan, Act::Reply(agent, random.pick(&script::CLOSINGS)));
                    agent
                };
                at -= random.range(60, 600);
                add(at, fan, Act::Resolve(closer));
            }
        } else if fan < HISTORY + ACTIVE {
            // Being worked now; every other fan is waiting for an answer.
            let mut at = random.range(4 * 60, 25 * 60);
            add(at, fan, Act::FanSays(random.pick(&script::OPENERS)));
            at -= random.range(20, 90);
            add(
                at,
                fan,
                Act::Reply(agent, random.pick(&script::FIRST_REPLIES)),
            );
            if fan % 4 == 1 {
                at -= random.range(10, 60);
                add(at, fan, Act::Whisper(random.pick(&script::WHISPERS)));
            }
            if fan.is_multiple_of(2) {
                at = (at - random.range(30, 200)).max(20);
                add(at, fan, Act::FanSays(random.pick(&script::FOLLOW_UPS)));
            }
        } else {
            // In the queue, nobody has answered yet.
            add(
                random.range(8, 170),
                fan,
                Act::FanSays(random.pick(&script::OPENERS)),
            );
        }
    }
    steps
}

impl Seeder<'_> {
    async fn perform(&mut self, fan: usize, act: Act) -> anyhow::Result<()> {
        match act {
            Act::FanSays(text) => {
                let state = self.fan(fan).await?;
                let principal = state.principal.clone();
                let conversation = match state.conversation.clone() {
                    Some(id) => id,
                    None => {
                        let (view, _) = self.app.open_conversation(&principal).await?;
                        let id = view.id().to_owned();
                        if let Some(state) = self.fans[fan].as_mut() {
                            state.conversation = Some(id.clone());
                        }
                        id
                    }
                };
                self.send(&principal, &conversation, text, None).await
            }
            Act::Reply(member, text) => {
                let conversation = self.conversation(fan)?;
                let author = self.team[member].clone();
                match self.send(&author, &conversation, text, None).await {
                    Err(error) if is_forbidden(&error) => {
                        // Routed elsewhere meanwhile: the owner hands it to the author.
                        self.app
                            .assign(&self.team[OWNER], &conversation, author.author_id())
                            .await?;
                        self.send(&author, &conversation, text, None).await
                    }
                    other => other,
                }
            }
            Act::Whisper(text) => {
                let conversation = self.conversation(fan)?;
                let assignee = match self
                    .app
                    .get_conversation(&self.team[OWNER], &conversation)
                    .await?
                {
                    ConversationView::Team(view) => view.assignee_id,
                    ConversationView::Fan(_) => None,
                };
                let supervisor = self.team[SUPERVISOR].clone();
                self.send(&supervisor, &conversation, text, assignee).await
            }
            Act::Escalate(member) => {
                let conversation = self.conversation(fan)?;
                let lead = self.team[LEAD].author_id().to_owned();
                let reason = "Payment issue that needs a lead's decision";
                self.app
                    .escalate(&self.team[member], &conversation, reason, Some(&lead))
                    .await?;
                Ok(())
            }
            Act::Resolve(member) => {
                let conversation = self.conversation(fan)?;
                self.app.resolve(&self.team[member], &conversation).await?;
                if let Some(state) = self.fans[fan].as_mut() {
                    state.conversation = None;
                }
                Ok(())
            }
        }
    }

    fn conversation(&self, fan: usize) -> anyhow::Result<String> {
        self.fans[fan]
            .as_ref()
            .and_then(|state| state.conversation.clone())
            .context("the script answers a fan before they wrote")
    }

    /// The fan's session, created (with a profile) at their first appearance.
    async fn fan(&mut self, index: usize) -> anyhow::Result<&FanState> {
        if self.fans[index].is_none() {
            let (name, timezone) = FANS[index];
            let session = NewFanSession {
                display_name: name.to_owned(),
                timezone: Some(timezone.to_owned()),
                ..NewFanSession::default()
            };
            let (token, fan) = self.app.create_fan_session(session).await?;
            let principal = self.app.authenticate(&token).await?.principal;
            self.app
                .update_fan_profile(&self.team[OWNER], &fan.id, profile(index))
                .await?;
            self.fans[index] = Some(FanState {
                principal,
                conversation: None,
            });
        }
        self.fans[index].as_ref().context("fan state")
    }

    async fn send(
        &mut self,
        author: &Principal,
        conversation: &str,
        body: &str,
        to: Option<String>,
    ) -> anyhow::Result<()> {
        self.sent += 1;
        let input = SendMessage {
            client_msg_id: format!("demo-seed-{}", self.sent),
            body: body.to_owned(),
            visibility: to.as_ref().map(|_| "internal".to_owned()),
            template_id: None,
            to,
        };
        self.app.send_message(author, conversation, input).await?;
        Ok(())
    }
}

fn is_forbidden(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<ServiceError>(),
        Some(ServiceError::Forbidden(_))
    )
}

/// Tags, spend, notes and attributes: every sixth fan is a VIP big spender.
fn profile(index: usize) -> FanProfilePatch {
    let vip = index % 6 == 1;
    let index_cents = i64::try_from(index).unwrap_or(0);
    let mut tags = Vec::new();
    if vip {
        tags.push("vip".to_owned());
    }
    if index.is_multiple_of(5) {
        tags.push("merch".to_owned());
    }
    if index % 9 == 4 {
        tags.push("annual".to_owned());
    }
    let mut attributes = BTreeMap::new();
    attributes.insert(
        "favourite_series".to_owned(),
        ["Studio sessions", "Tour diaries", "Q&A"][index % 3].to_owned(),
    );
    FanProfilePatch {
        tags: Some(tags),
        lifetime_spend_cents: Some(if vip {
            25_000 + index_cents * 3_100
        } else {
            (index_cents * 730) % 9_000
        }),
        notes: Some(if vip {
            "Long-time supporter since the first tour. Prefers short answers.".to_owned()
        } else {
            String::new()
        }),
        attributes: Some(attributes),
        timezone: None,
    }
}
