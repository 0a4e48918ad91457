//! Benchmark (not a test): the metrics summary by agent and by shift
//! for one week, from the write-time metric rows, against a naive window-function query
//! over the messages table, on the same generated data.
//!
//! ```text
//! cargo run --release -p fandesk-store --example metrics_bench -- \
//!     [--conversations 1000000] [--messages 10] [--weeks 52] [--postgres postgres://…/db]
//! ```
//! Rows are generated straight into the database (SQLite in a temporary directory, or a
//! fresh schema of the given PostgreSQL database, loaded with UNNEST batches): fans,
//! conversations, their messages, and the metric rows `fandesk_analytics::replay` folds
//! from the same events — exactly what the group commit would have written.

use fandesk_analytics::{
    Actor, Event, EventKind, GroupBy, Period, Policy, ShiftCalendar, replay, summarize,
    summary_from_totals,
};
use fandesk_domain::desk::Shift;
use fandesk_domain::{ConversationId, MemberId};
use fandesk_store::{MetricGrouping, MetricPart, Store};
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::time::Instant;

mod load;

const AGENTS: usize = 60;
const BATCH: usize = 20_000;

struct Args {
    conversations: usize,
    messages: usize,
    weeks: i64,
    postgres: Option<String>,
}

fn args() -> Args {
    let mut parsed = Args {
        conversations: 1_000_000,
        messages: 10,
        weeks: 52,
        postgres: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || words.next().expect("flag value");
        match word.as_str() {
            "--conversations" => parsed.conversations = value().parse().expect("number"),
            "--messages" => parsed.messages = value().parse().expect("number"),
            "--weeks" => parsed.weeks = value().parse().expect("number"),
            "--postgres" => parsed.postgres = Some(value()),
            other => panic!("unknown flag {other}"),
        }
    }
    parsed
}

/// splitmix64: reproducible data without a dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// One generated message (the columns the benchmark fills).
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub public_seq: Option<i64>,
    pub author_id: String,
    pub author_kind: &'static str,
    pub visibility: &'static str,
    pub automated: bool,
    pub created_at: i64,
    pub reply_ms: Option<i64>,
}

/// One conversation: its row facts, its messages and its metric events.
pub struct Generated {
    pub id: String,
    pub created_at: i64,
    pub assignee: String,
    pub escalated: bool,
    pub messages: Vec<Message>,
    pub events: Vec<Event>,
}

fn generate(index: usize, args: &Args, start: Timestamp, random: &mut Random) -> Generated {
    let span = args.weeks * 7 * 86_400 * 1_000_000;
    let created_micros = start.as_microsecond()
        + span / args.conversations as i64 * index as i64
        + random.below(1_000_000) as i64;
    let id = format!("c{index:08}");
    let conversation = ConversationId(id.clone());
    let agent = format!("agent{:02}", index % AGENTS);
    let replier = if random.below(100) < 3 {
        "supervisor".to_owned()
    } else {
        agent.clone()
    };
    let escalated = random.below(100) < 5;
    let at = |micros: i64| Timestamp::from_microsecond(micros).expect("time");
    let mut events = vec![Event {
        id: id.clone(),
        conversation: conversation.clone(),
        at: at(created_micros),
        actor: Actor::Fan,
        kind: EventKind::Created,
    }];
    let mut messages = Vec::with_capacity(args.messages);
    let mut clock = created_micros + 1_000_000;
    let mut public_seq = 0;
    let mut waiting: Option<i64> = None;
    let frt = 5_000_000 + (random.below(1_000) * random.below(1_000)) as i64 * 600;
    for seq in 1..=args.messages as i64 {
        let last = seq == args.messages as i64;
        let (author, kind, visibility, automated, event) = if last {
            let kind = EventKind::Resolved {
                assignee: Some(MemberId(if escalated {
                    "lead".into()
                } else {
                    agent.clone()
                })),
            };
            ("system".to_owned(), "system", "internal", false, kind)
        } else if seq == 1 || (seq > 3 && seq % 2 == 0) {
            (
                format!("f{index:08}"),
                "fan",
                "public",
                false,
                EventKind::FanMessage,
            )
        } else if seq == 2 && random.below(100) < 20 {
            (
                "bot".to_owned(),
                "bot",
                "public",
                true,
                EventKind::AutomatedReply,
            )
        } else if seq == 5 {
            let kind = if escalated {
                EventKind::Escalated
            } else {
                EventKind::Internal
            };
            (agent.clone(), "member", "internal", false, kind)
        } else {
            let who = if seq <= 3 {
                replier.clone()
            } else if escalated {
                "lead".to_owned()
            } else {
                agent.clone()
            };
            (who, "member", "public", false, EventKind::HumanReply)
        };
        clock += match (&event, seq) {
            (EventKind::HumanReply, 2 | 3) => frt,
            (EventKind::AutomatedReply, _) => 2_000_000,
            _ => 30_000_000 + random.below(600) as i64 * 1_000_000,
        };
        let public = visibility == "public";
        if public {
            public_seq += 1;
        }
        let reply_ms = match event {
            EventKind::FanMessage => {
                waiting.get_or_insert(clock);
                None
            }
            EventKind::HumanReply => waiting.take().map(|since| (clock - since) / 1_000),
            _ => None,
        };
        let message_id = format!("{id}-{seq}");
        let actor = match kind {
            "fan" => Actor::Fan,
            "bot" => Actor::Bot(MemberId(author.clone())),
            _ => Actor::Member(MemberId(author.clone())),
        };
        events.push(Event {
            id: message_id.clone(),
            conversation: conversation.clone(),
            at: at(clock),
            actor,
            kind: event,
        });
        messages.push(Message {
            id: message_id,
            conversation_id: id.clone(),
            seq,
            public_seq: public.then_some(public_seq),
            author_id: author,
            author_kind: kind,
            visibility,
            automated,
            created_at: clock,
            reply_ms,
        });
    }
    Generated {
        id,
        created_at: created_micros,
        assignee: if escalated { "lead".into() } else { agent },
        escalated,
        messages,
        events,
    }
}

/// Generates and loads everything, in batches of conversations.
async fn populate(db: &load::Db, args: &Args, start: Timestamp) {
    let started = Instant::now();
    load::members(db, AGENTS).await;
    let mut random = Random(42);
    let mut done = 0;
    while done < args.conversations {
        let count = BATCH.min(args.conversations - done);
        let batch: Vec<Generated> = (done..done + count)
            .map(|index| generate(index, args, start, &mut random))
            .collect();
        let events: Vec<Event> = batch
            .iter()
            .flat_map(|conversation| conversation.events.iter().cloned())
            .collect();
        let records = replay(&events, &Policy::default());
        load::batch(db, &batch, &records).await;
        done += count;
        if done % 200_000 == 0 || done == args.conversations {
            eprintln!(
                "  {done} conversations, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "generated {} conversations / {} messages in {:.1} s",
        args.conversations,
        args.conversations * args.messages,
        started.elapsed().as_secs_f64()
    );
}

fn shifts() -> Vec<Shift> {
    use Weekday::*;
    let every_day = vec![
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ];
    let zone = TimeZone::get("Europe/Berlin").expect("zone");
    [
        ("early", "06:00", "14:00"),
        ("late", "14:00", "22:00"),
        ("night", "22:00", "06:00"),
    ]
    .into_iter()
    .map(|(name, start, end)| Shift {
        name: name.to_owned(),
        weekdays: every_day.clone(),
        start: start.parse().expect("time"),
        end: end.parse().expect("time"),
        time_zone: zone.clone(),
    })
    .collect()
}

/// Median and minimum of `runs` timings of `work`, in milliseconds.
async fn time<F, Fut>(runs: usize, mut work: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut timings = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(work().await);
        timings.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    timings.sort_by(f64::total_cmp);
    (timings[timings.len() / 2], timings[0])
}

#[tokio::main]
async fn main() {
    let args = args();
    let start: Timestamp = "2026-01-05T00:00:00Z".parse().expect("time");
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = format!("bench_{}", std::process::id());
    // The store creates the schema and runs the migrations; the loader writes directly.
    let store = match &args.postgres {
        Some(url) => Store::connect_postgres(url, Some(&schema))
            .await
            .expect("connect postgres"),
        None => Store::open_sqlite(dir.path()).await.expect("open sqlite"),
    };
    let db = load::Db::open(args.postgres.as_deref(), &schema, dir.path()).await;
    eprintln!(
        "backend {}, {} conversations × {} messages over {} weeks",
        store.backend(),
        args.conversations,
        args.messages,
        args.weeks
    );
    populate(&db, &args, start).await;
    db.analyze().await;
    // A week in the middle of the data.
    let from = start
        .checked_add(SignedDuration::from_hours(24 * 7 * (args.weeks / 2)))
        .expect("time");
    let period = Period {
        from,
        to: from
            .checked_add(SignedDuration::from_hours(24 * 7))
            .expect("time"),
    };
    let now = period
        .to
        .checked_add(SignedDuration::from_hours(24 * 400))
        .expect("time");
    let shifts = shifts();
    let runs = 11;
    // Exactly what `GET /api/v1/metrics/summary` does (service/metrics_summary.rs).
    let by_agent = time(runs, || async {
        let totals = store
            .aggregate_metrics(period.from, period.to, now, &MetricGrouping::Member)
            .await
            .expect("totals");
        summary_from_totals(totals, false).groups.len()
    })
    .await;
    let by_shift = time(runs, || async {
        let segments = ShiftCalendar::new(&shifts, period).segments(period);
        let totals = store
            .aggregate_metrics(
                period.from,
                period.to,
                now,
                &MetricGrouping::Segments(segments),
            )
            .await
            .expect("totals");
        summary_from_totals(totals, false).groups.len()
    })
    .await;
    // Each of the three reads on its own, to see where the time goes.
    let segments = ShiftCalendar::new(&shifts, period).segments(period);
    let mut parts = Vec::new();
    for (name, grouping) in [
        ("by agent", MetricGrouping::Member),
        ("by shift", MetricGrouping::Segments(segments)),
    ] {
        for part in MetricPart::ALL
            .into_iter()
            .chain([MetricPart::TeamMessageRows, MetricPart::ResolutionsWindow])
        {
            let timing = time(runs, || async {
                store
                    .aggregate_metric_part(part, period.from, period.to, now, &grouping)
                    .await
                    .expect("part")
                    .len()
            })
            .await;
            parts.push((name, part, timing));
        }
    }
    // The same numbers as the fold over the rows (checked once, not timed).
    let rows = store
        .list_metric_rows(period.from, period.to)
        .await
        .expect("rows");
    let folded = summarize(
        &rows.openings,
        &rows.team_messages,
        &rows.resolutions,
        period,
        now,
        &GroupBy::Agent,
    );
    let totals = store
        .aggregate_metrics(period.from, period.to, now, &MetricGrouping::Member)
        .await
        .expect("totals");
    assert_eq!(
        summary_from_totals(totals, false),
        folded,
        "aggregated summary = fold"
    );
    eprintln!(
        "week {} – {}: {} openings, {} team messages, {} resolutions",
        period.from,
        period.to,
        rows.openings.len(),
        rows.team_messages.len(),
        rows.resolutions.len()
    );
    let naive_agent = time(3, || async { db.naive_by_agent(period).await }).await;
    let naive_shift = time(3, || async {
        let calendar = ShiftCalendar::new(&shifts, period);
        db.naive_by_shift(period, &|at| calendar.shift_at(at)).await
    })
    .await;
    println!(
        "| backend | query | summary (median / min ms) | naive window query (median / min ms) | speed-up |"
    );
    println!("|---|---|---|---|---|");
    for (name, fast, naive) in [
        ("by agent", by_agent, naive_agent),
        ("by shift", by_shift, naive_shift),
    ] {
        println!(
            "| {} | {name}, one week | {:.1} / {:.1} | {:.0} / {:.0} | {:.0}× |",
            store.backend(),
            fast.0,
            fast.1,
            naive.0,
            naive.1,
            naive.0 / fast.0
        );
    }
    println!();
    println!("| backend | grouping | part | median / min ms |");
    println!("|---|---|---|---|");
    for (name, part, timing) in parts {
        println!(
            "| {} | {name} | {part:?} | {:.1} / {:.1} |",
            store.backend(),
            timing.0,
            timing.1
        );
    }
    store.close().await;
    db.finish(&schema).await;
}
