//! Upvote tallies through the `App` on SQLite (docs/api.md › WebSocket, `event:{id}`): a
//! burst of upvotes on one question is one `question.updated` entry with the final count,
//! live and on resume, while every upvote's answer carries its exact count; an entry that
//! already carries the count (a hide) needs no tally; a shutdown tallies what is pending.

use crate::{App, Config, ManualClock, NewEvent, NewFanSession, Subscription};
use fandesk_bus::LocalBus;
use fandesk_domain::Principal;
use fandesk_domain::event::{EventId, EventKind};
use fandesk_domain::question::QuestionAction;
use fandesk_store::Store;
use jiff::SignedDuration;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Longer than the upvotes of a test take to commit, so they all share one tally.
const TALLY: Duration = Duration::from_secs(2);

struct Fixture {
    app: App,
    store: Store,
    owner: Principal,
    event: String,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(question_tally: Duration) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open_sqlite(dir.path()).await.expect("store");
        let clock = Arc::new(ManualClock::starting_now());
        let config = Config {
            question_tally,
            ..Config::default()
        };
        let app = App::start(store.clone(), Arc::new(LocalBus::new()), config, clock);
        app.bootstrap_owner("owner@tally.invalid", "owner-password-1")
            .await
            .expect("owner");
        let login = app
            .login("owner@tally.invalid", "owner-password-1")
            .await
            .expect("login");
        let owner = app
            .authenticate(&login.token)
            .await
            .expect("session")
            .principal;
        let event = app
            .create_event(
                &owner,
                NewEvent {
                    title: "Ask me anything".into(),
                    kind: EventKind::Live,
                    starts_at: app.now() + SignedDuration::from_secs(60),
                    duration_secs: 3_600,
                    media_url: None,
                    qa: Some(true),
                    slow_mode_secs: None,
                },
            )
            .await
            .expect("event")
            .id;
        Fixture {
            app,
            store,
            owner,
            event,
            _dir: dir,
        }
    }

    async fn fan(&self, name: &str) -> Principal {
        let session = NewFanSession {
            display_name: name.into(),
            ..NewFanSession::default()
        };
        let (token, _) = self.app.create_fan_session(session).await.expect("fan");
        self.app
            .authenticate(&token)
            .await
            .expect("session")
            .principal
    }

    fn topic(&self) -> String {
        format!("event:{}", self.event)
    }

    /// `count` fans upvote `question` all at once; the counts their answers carry.
    async fn upvote_all(&self, question: &str, count: usize) -> Vec<u64> {
        let mut fans = Vec::new();
        for index in 0..count {
            fans.push(self.fan(&format!("Fan {index}")).await);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for fan in fans {
            let (app, event, question) =
                (self.app.clone(), self.event.clone(), question.to_owned());
            tasks.spawn(async move { app.upvote_question(&fan, &event, &question).await });
        }
        let mut counts = Vec::new();
        while let Some(answer) = tasks.join_next().await {
            let change = answer.expect("task").expect("upvote");
            assert!(change.changed, "each fan's first upvote counts");
            counts.push(change.question.upvotes);
        }
        counts.sort_unstable();
        counts
    }

    async fn last_seq(&self) -> u64 {
        self.store
            .event_last_seq(&EventId::from(self.event.as_str()))
            .await
            .expect("read")
            .expect("event")
    }

    async fn stop(self) {
        self.app.shutdown().await;
        self.store.close().await;
    }
}

/// The next frame: (seq, kind, upvotes).
async fn next(subscription: &mut Subscription) -> (u64, String, u64) {
    let frame = tokio::time::timeout(Duration::from_secs(10), subscription.next())
        .await
        .expect("a frame in time")
        .expect("subscribed");
    let frame: Value = serde_json::from_slice(&frame).expect("json");
    (
        frame["seq"].as_u64().expect("a timeline frame"),
        frame["event"]["kind"].as_str().expect("kind").to_owned(),
        frame["event"]["question"]["upvotes"].as_u64().unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_upvotes_is_one_entry_with_the_final_count() {
    const FANS: usize = 30;
    let fixture = Fixture::start(TALLY).await;
    let app = &fixture.app;
    let asker = fixture.fan("Ada").await;
    let mut live = app
        .subscribe(&asker, &fixture.topic(), None)
        .await
        .expect("subscribe");
    let asked = app
        .ask_question(&asker, &fixture.event, "q1", "Will you tour?")
        .await
        .expect("ask");
    let question = asked.question.id.clone();

    // Every answer carries its exact count; a repeat changes nothing.
    let counts = fixture.upvote_all(&question, FANS).await;
    assert_eq!(counts, (1..=FANS as u64).collect::<Vec<_>>());
    let repeat = app
        .upvote_question(&asker, &fixture.event, &question)
        .await
        .expect("upvote");
    assert!(repeat.changed);
    let again = app
        .upvote_question(&asker, &fixture.event, &question)
        .await
        .expect("upvote");
    assert!(!again.changed, "a fan's second upvote counts nothing");
    let total = FANS as u64 + 1;
    assert_eq!(again.question.upvotes, total);

    // Live: the ask, then one entry with the final count — not one per upvote.
    assert_eq!(next(&mut live).await, (1, "question.created".into(), 0));
    assert_eq!(next(&mut live).await, (2, "question.updated".into(), total));
    let quiet = tokio::time::timeout(TALLY + Duration::from_millis(500), live.next()).await;
    assert!(quiet.is_err(), "nothing more after the tally");
    assert_eq!(fixture.last_seq().await, 2);

    // A fan resuming from anywhere reads the final count, with no gap.
    let carl = fixture.fan("Carl").await;
    let mut resumed = app
        .subscribe(&carl, &fixture.topic(), Some(0))
        .await
        .expect("resume");
    assert_eq!(
        next(&mut resumed).await,
        (1, "question.created".into(), total)
    );
    assert_eq!(
        next(&mut resumed).await,
        (2, "question.updated".into(), total)
    );
    let mut resumed = app
        .subscribe(&carl, &fixture.topic(), Some(1))
        .await
        .expect("resume");
    assert_eq!(
        next(&mut resumed).await,
        (2, "question.updated".into(), total)
    );
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_carrying_the_count_needs_no_tally_and_hidden_stays_hidden() {
    let fixture = Fixture::start(TALLY).await;
    let app = &fixture.app;
    let asker = fixture.fan("Ada").await;
    let asked = app
        .ask_question(&asker, &fixture.event, "q1", "Rude words")
        .await
        .expect("ask");
    let question = asked.question.id.clone();
    assert_eq!(fixture.upvote_all(&question, 3).await, vec![1, 2, 3]);
    // Hidden before the tally: the hide's entry carries the 3 upvotes.
    let hidden = app
        .act_on_question(
            &fixture.owner,
            &fixture.event,
            &question,
            QuestionAction::Hide,
        )
        .await
        .expect("hide");
    assert_eq!(hidden.question.upvotes, 3);
    let mut live = app
        .subscribe(&asker, &fixture.topic(), Some(0))
        .await
        .expect("resume");
    for seq in 1..=2 {
        let frame = tokio::time::timeout(Duration::from_secs(10), live.next())
            .await
            .expect("in time")
            .expect("frame");
        let frame: Value = serde_json::from_slice(&frame).expect("json");
        assert_eq!(frame["seq"], seq);
        assert_eq!(frame["event"]["kind"], "question.removed", "{frame}");
    }
    tokio::time::sleep(TALLY + Duration::from_millis(500)).await;
    assert_eq!(fixture.last_seq().await, 2, "the ask and the hide only");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_tallies_what_is_pending() {
    // A tally an hour away: only the shutdown can write it.
    let fixture = Fixture::start(Duration::from_secs(3_600)).await;
    let app = &fixture.app;
    let asker = fixture.fan("Ada").await;
    let asked = app
        .ask_question(&asker, &fixture.event, "q1", "Encore?")
        .await
        .expect("ask");
    assert_eq!(fixture.upvote_all(&asked.question.id, 2).await, vec![1, 2]);
    assert_eq!(fixture.last_seq().await, 1, "counted, not yet tallied");
    app.shutdown().await;
    let entries = fixture
        .store
        .list_question_entries(&EventId::from(fixture.event.as_str()), 1, 10)
        .await
        .expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].seq, entries[0].question.upvotes), (2, 2));
    fixture.store.close().await;
}
