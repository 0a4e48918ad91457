//! Scheduled weekly report delivery (docs/api.md › Metrics and reports) on a manual clock:
//! last week's report lands in the directory once, the webhook receives it with a valid
//! signature, a failed webhook is retried with backoff, and a restart delivers nothing
//! twice. Real store (SQLite or PostgreSQL), real scheduler, real HTTP webhook on port 0.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use fandesk_service::{
    App, Clock, Config, ManualClock, ReportDelivery, ReportFormat, ReportWebhook,
};
use fandesk_testkit::{DEFAULT_TIMEOUT, TestDatabase};
use hmac::{Hmac, Mac};
use jiff::civil::Weekday;
use sha2::Sha256;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &[u8] = b"webhook-secret";

/// What the webhook received, and how many of the next requests it fails with 500.
#[derive(Default)]
struct Receiver {
    requests: Mutex<Vec<(HeaderMap, String)>>,
    fail_next: Mutex<usize>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    receiver.requests.lock().unwrap().push((headers, body));
    let mut fail = receiver.fail_next.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn webhook() -> (String, Arc<Receiver>) {
    let receiver = Arc::new(Receiver::default());
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, receiver)
}

fn requests(receiver: &Receiver) -> Vec<(HeaderMap, String)> {
    receiver.requests.lock().unwrap().clone()
}

/// Polls `check` until it holds (the scheduler runs in the background once the manual
/// clock is advanced); panics after the default timeout.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("header {name}"))
        .to_str()
        .unwrap()
}

/// Checks the signature independently of the server's code.
fn assert_signed(headers: &HeaderMap, body: &str, now: jiff::Timestamp) {
    let timestamp = header(headers, "x-fandesk-timestamp");
    assert_eq!(timestamp, now.as_second().to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header(headers, "x-fandesk-signature"), expected);
}

fn start(store: fandesk_store::Store, config: &Config, clock: &Arc<ManualClock>) -> App {
    App::start(
        store,
        Arc::new(fandesk_bus::LocalBus::new()),
        config.clone(),
        clock.clone(),
    )
}

async fn pending(app_store: &fandesk_store::Store, count: i64) {
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    loop {
        let now = app_store.count_pending_jobs().await.unwrap();
        if now == count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{now} jobs pending, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_report_is_delivered_once_signed_and_retried() {
    let (url, receiver) = webhook().await;
    *receiver.fail_next.lock().unwrap() = 1;
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    // Monday 16 November 2026, 08:30 in Berlin (07:30 UTC); delivery Mondays at 09:00.
    let clock = Arc::new(ManualClock::new("2026-11-16T07:30:00Z".parse().unwrap()));
    let config = Config {
        report_delivery: Some(ReportDelivery {
            weekday: Weekday::Monday,
            hour: 9,
            time_zone: Some(jiff::tz::TimeZone::get("Europe/Berlin").unwrap()),
            dir: Some(reports.clone()),
            formats: vec![ReportFormat::Html, ReportFormat::Json],
            webhook: Some(ReportWebhook {
                url,
                secret: SECRET.to_vec(),
                format: ReportFormat::Json,
                timeout: Duration::from_secs(5),
            }),
        }),
        ..Config::default()
    };
    let database = TestDatabase::fresh().unwrap();
    let store = database.open().await.unwrap();
    let app = start(store.clone(), &config, &clock);
    // Weeks 46 (due today 09:00) and 47, a file and a webhook job each.
    pending(&store, 4).await;
    assert_eq!(
        app.run_due_jobs().await.unwrap(),
        0,
        "nothing due before 09:00"
    );
    assert!(files(&reports).is_empty());

    clock.advance(Duration::from_secs(30 * 60));
    eventually("the files and a first webhook attempt", || {
        files(&reports).len() == 2 && requests(&receiver).len() == 1
    })
    .await;
    assert_eq!(
        files(&reports),
        [
            "fandesk-report-2026-W46.html",
            "fandesk-report-2026-W46.json"
        ]
    );
    let html = std::fs::read_to_string(reports.join("fandesk-report-2026-W46.html")).unwrap();
    assert!(html.contains("<svg"), "charts inline");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("fandesk-report-2026-W46.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["week"], "2026-W46");
    let first = requests(&receiver);
    assert_signed(&first[0].0, &first[0].1, clock.now());

    // The first attempt got a 500: given back to run 10 s later, not before.
    let failed_at = clock.now();
    let deadline = tokio::time::Instant::now() + DEFAULT_TIMEOUT;
    loop {
        let job = store
            .find_job("report-webhook:2026-W46")
            .await
            .unwrap()
            .unwrap();
        if !job.claimed {
            assert_eq!((job.attempts, job.done), (1, false));
            assert_eq!(
                job.due_at,
                failed_at
                    .checked_add(jiff::SignedDuration::from_secs(10))
                    .unwrap()
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the failed job is never given back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(requests(&receiver).len(), 1);
    pending(&store, 3).await;
    clock.advance(Duration::from_secs(9));
    assert_eq!(app.run_due_jobs().await.unwrap(), 0, "backoff not over");
    clock.advance(Duration::from_secs(1));
    eventually("the retried webhook", || requests(&receiver).len() == 2).await;
    let all = requests(&receiver);
    let (headers, body) = &all[1];
    assert_signed(headers, body, clock.now());
    assert_eq!(header(headers, "content-type"), "application/json");
    assert_eq!(header(headers, "x-fandesk-week"), "2026-W46");
    assert_eq!(
        header(headers, "x-fandesk-delivery"),
        header(&all[0].0, "x-fandesk-delivery"),
        "one delivery id across retries"
    );
    let posted: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(posted["week"], "2026-W46");
    pending(&store, 2).await;
    assert!(
        store
            .find_job("report-file:2026-W46")
            .await
            .unwrap()
            .unwrap()
            .done
    );

    // A restart on the same data, still past the due time: nothing is delivered again.
    app.shutdown().await;
    store.close().await;
    let store = database.open().await.unwrap();
    let app = start(store.clone(), &config, &clock);
    clock.advance(Duration::from_secs(3_600));
    pending(&store, 2).await;
    assert_eq!(app.run_due_jobs().await.unwrap(), 0);
    assert_eq!(requests(&receiver).len(), 2);
    assert_eq!(files(&reports).len(), 2);

    // The next Monday 09:00 (08:00 UTC), week 47 goes out, once.
    clock.advance(Duration::from_secs(7 * 24 * 3_600));
    eventually("week 47", || {
        files(&reports).len() == 4 && requests(&receiver).len() == 3
    })
    .await;
    assert_eq!(
        header(&requests(&receiver)[2].0, "x-fandesk-week"),
        "2026-W47"
    );
    pending(&store, 2).await;
    app.shutdown().await;
    store.close().await;
}
