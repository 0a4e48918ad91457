//! The demo's simulated floor: a few fan messages a minute (new fans arriving, fans in
//! open conversations writing again) and two simulated agents, Ben and Chloé, who answer
//! their waiting fans and resolve conversations so routing keeps moving. Ana is left to
//! the person trying the console. Bounded in messages and time; stops on shutdown.

use super::script::{self, FANS, Random};
use super::seed::{FanHandle, Seeded};
use fandesk_domain::MemberId;
use fandesk_service::view::ConversationView;
use fandesk_service::{
    App, ConversationFilter, NewFanSession, Principal, SendMessage, ServiceError,
};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The generator stops after this many fan messages or this long, whichever comes first.
const MAX_MESSAGES: u64 = 500;
const MAX_RUNTIME: Duration = Duration::from_secs(4 * 3600);
/// New fans arrive only while fewer than this many wait unassigned.
const QUEUE_LIMIT: usize = 5;
/// Fans the generator keeps writing in at most.
const MAX_FANS: usize = 40;
/// Ben and Chloé in the team order of `script::TEAM`.
const SIMULATED_AGENTS: [usize; 2] = [4, 5];
const OWNER: usize = 0;

const FIRST_NAMES: [&str; 16] = [
    "Jade", "Eli", "Rosa", "Finn", "Nia", "Hugo", "Iris", "Kai", "Lena", "Milo", "Noor", "Otto",
    "Pia", "Quinn", "Sana", "Theo",
];

struct Generator {
    app: App,
    team: Vec<Principal>,
    fans: Vec<FanHandle>,
    random: Random,
    sent: u64,
}

pub async fn run(app: App, seeded: Seeded, per_minute: u32, shutdown: CancellationToken) {
    if per_minute == 0 {
        return;
    }
    let seed = jiff::Timestamp::now().as_nanosecond().unsigned_abs() as u64;
    let mut generator = Generator {
        app,
        team: seeded.team,
        fans: seeded.fans,
        random: Random::new(seed),
        sent: 0,
    };
    let every = i64::from(60_000 / per_minute.clamp(1, 600));
    let started = Instant::now();
    loop {
        let pause = Duration::from_millis(
            u64::try_from(generator.random.range(every / 2, every * 3 / 2)).unwrap_or(15_000),
        );
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        if generator.sent >= MAX_MESSAGES || started.elapsed() > MAX_RUNTIME {
            tracing::warn!(
                messages = generator.sent,
                "demo traffic generator finished; the server keeps running"
            );
            return;
        }
        if let Err(error) = generator.agents_work().await {
            tracing::warn!(%error, "simulated agent step failed");
        }
        match generator.fan_writes().await {
            Ok(()) => generator.sent += 1,
            Err(error) => tracing::warn!(%error, "simulated fan step failed"),
        }
    }
}

impl Generator {
    /// A new fan arrives, or one with an open conversation writes again.
    async fn fan_writes(&mut self) -> Result<(), ServiceError> {
        let waiting = self.unassigned_count().await?;
        let arrive = self.fans.is_empty() || (waiting < QUEUE_LIMIT && self.random.chance(45));
        if arrive || self.fans.len() < 3 {
            return self.new_fan().await;
        }
        let index = usize::try_from(self.random.next() % self.fans.len() as u64).unwrap_or(0);
        let fan = self.fans[index].clone();
        let text = self.random.pick(&script::FOLLOW_UPS);
        match self.send(&fan.principal, &fan.conversation_id, text).await {
            // Resolved meanwhile: this fan is done for now.
            Err(ServiceError::Conflict(_)) => {
                self.fans.swap_remove(index);
                Ok(())
            }
            other => other,
        }
    }

    async fn new_fan(&mut self) -> Result<(), ServiceError> {
        let first = self.random.pick(&FIRST_NAMES);
        let initial = char::from(b'A' + u8::try_from(self.random.next() % 26).unwrap_or(0));
        let (_, timezone) = self.random.pick(&FANS);
        let session = NewFanSession {
            display_name: format!("{first} {initial}."),
            timezone: Some(timezone.to_owned()),
            ..NewFanSession::default()
        };
        let (token, _) = self.app.create_fan_session(session).await?;
        let principal = self.app.authenticate(&token).await?.principal;
        let (conversation, _) = self.app.open_conversation(&principal).await?;
        let conversation_id = conversation.id().to_owned();
        let text = self.random.pick(&script::OPENERS);
        self.send(&principal, &conversation_id, text).await?;
        if self.fans.len() >= MAX_FANS {
            self.fans.remove(0);
        }
        self.fans.push(FanHandle {
            principal,
            conversation_id,
        });
        Ok(())
    }

    async fn unassigned_count(&self) -> Result<usize, ServiceError> {
        let filter = ConversationFilter {
            unassigned: true,
            limit: 200,
            ..Default::default()
        };
        let conversations = self
            .app
            .list_conversations(&self.team[OWNER], filter)
            .await?;
        Ok(conversations
            .iter()
            .filter(|view| matches!(view, ConversationView::Team(team) if team.status == "open"))
            .count())
    }

    /// Ben and Chloé answer a fan who has waited 20 s or more, and now and then resolve a
    /// conversation where the fan has had an answer.
    async fn agents_work(&mut self) -> Result<(), ServiceError> {
        for agent in SIMULATED_AGENTS {
            let principal = self.team[agent].clone();
            let filter = ConversationFilter {
                assignee_id: Some(MemberId(principal.author_id().to_owned())),
                limit: 50,
                ..Default::default()
            };
            let mine: Vec<_> = self
                .app
                .list_conversations(&principal, filter)
                .await?
                .into_iter()
                .filter_map(|view| match view {
                    ConversationView::Team(team) if team.status != "resolved" => Some(team),
                    _ => None,
                })
                .collect();
            let now = jiff::Timestamp::now();
            let waited = |since: Option<jiff::Timestamp>| {
                since.map(|since| now.duration_since(since).as_secs())
            };
            if let Some(waiting) = mine
                .iter()
                .find(|team| waited(team.awaiting_since).is_some_and(|secs| secs >= 20))
            {
                let text = if self.random.chance(50) {
                    self.random.pick(&script::FIRST_REPLIES)
                } else {
                    self.random.pick(&script::CLOSINGS)
                };
                self.send(&principal, &waiting.id, text).await?;
            } else if self.random.chance(35)
                && let Some(done) = mine.iter().find(|team| team.awaiting_since.is_none())
            {
                self.app.resolve(&principal, &done.id).await?;
            }
        }
        Ok(())
    }

    async fn send(
        &mut self,
        author: &Principal,
        conversation: &str,
        body: &str,
    ) -> Result<(), ServiceError> {
        let input = SendMessage {
            client_msg_id: format!(
                "demo-live-{}-{}",
                jiff::Timestamp::now().as_microsecond(),
                self.random.next() % 1000
            ),
            body: body.to_owned(),
            visibility: None,
            template_id: None,
            to: None,
        };
        self.app
            .send_message(author, conversation, input)
            .await
            .map(|_| ())
    }
}
