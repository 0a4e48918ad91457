//! The charter's versions (migration 0010): saved only on top of the version the author
//! read, numbered densely, with the metrics' first-response target set in the same
//! transaction; review sign-offs newest first.

use crate::metrics::post;
use crate::support::{add_member, apply, at, open_conversation};
use fandesk_domain::{Role, Visibility};
use fandesk_store::{CharterEffects, CharterReviewRow, CharterVersionRow, Store};
use jiff::Timestamp;

fn version(number: i64, toml: &str, by: Option<&str>) -> CharterVersionRow {
    CharterVersionRow {
        version: number,
        toml: toml.to_owned(),
        created_at: at(number * 60),
        created_by: by.map(str::to_owned),
        created_by_name: by.unwrap_or("fandesk").to_owned(),
    }
}

const TARGET_60S: CharterEffects = CharterEffects {
    sla_target_ms: 60_000,
};

store_test!(
    versions_land_only_on_their_base,
    versions_land_only_on_their_base_sqlite,
    versions_land_only_on_their_base_postgres
);
async fn versions_land_only_on_their_base(store: &Store) {
    assert_eq!(store.find_current_charter().await.unwrap(), None);
    assert_eq!(store.current_charter_version().await.unwrap(), None);
    let seed = version(1, "[channels]\nlimit = 12\n", None);
    assert!(
        store
            .insert_charter_version(None, &seed, TARGET_60S)
            .await
            .unwrap()
    );
    // A second seed (another node starting at the same time) changes nothing.
    let other_seed = version(1, "# other\n", None);
    assert!(
        !store
            .insert_charter_version(None, &other_seed, TARGET_60S)
            .await
            .unwrap()
    );
    assert_eq!(
        store.find_current_charter().await.unwrap(),
        Some(seed.clone())
    );
    let second = version(2, "[channels]\nlimit = 4\n", Some("mem_owner"));
    assert!(
        store
            .insert_charter_version(Some(1), &second, TARGET_60S)
            .await
            .unwrap()
    );
    // Saved on a stale base: refused, nothing written.
    let stale = version(2, "[channels]\nlimit = 5\n", Some("mem_other"));
    assert!(
        !store
            .insert_charter_version(Some(1), &stale, TARGET_60S)
            .await
            .unwrap()
    );
    assert_eq!(store.current_charter_version().await.unwrap(), Some(2));
    assert_eq!(
        store.find_current_charter().await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        store.find_charter_version(1).await.unwrap(),
        Some(seed.clone())
    );
    assert_eq!(store.find_charter_version(3).await.unwrap(), None);
    assert_eq!(store.first_charter_version().await.unwrap(), Some(seed));
    let history: Vec<(i64, Option<String>, Timestamp)> = store
        .list_charter_versions()
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.version, row.created_by, row.created_at))
        .collect();
    assert_eq!(
        history,
        [
            (2, Some("mem_owner".to_owned()), at(120)),
            (1, None, at(60))
        ]
    );
}

store_test!(
    concurrent_saves_on_one_base_land_once,
    concurrent_saves_on_one_base_land_once_sqlite,
    concurrent_saves_on_one_base_land_once_postgres
);
async fn concurrent_saves_on_one_base_land_once(store: &Store) {
    let seed = version(1, "", None);
    assert!(
        store
            .insert_charter_version(None, &seed, TARGET_60S)
            .await
            .unwrap()
    );
    let saves = (0..8).map(|writer| {
        let store = store.clone();
        tokio::spawn(async move {
            let row = version(2, &format!("# writer {writer}\n"), Some("mem"));
            store
                .insert_charter_version(Some(1), &row, TARGET_60S)
                .await
        })
    });
    let mut landed = 0;
    for save in saves {
        if save.await.unwrap().unwrap() {
            landed += 1;
        }
    }
    assert_eq!(landed, 1);
    assert_eq!(store.current_charter_version().await.unwrap(), Some(2));
}

store_test!(
    a_saved_version_sets_the_target_replies_are_judged_against,
    a_saved_version_sets_the_target_replies_are_judged_against_sqlite,
    a_saved_version_sets_the_target_replies_are_judged_against_postgres
);
async fn a_saved_version_sets_the_target_replies_are_judged_against(store: &Store) {
    let seed = version(1, "", None);
    let ten_seconds = CharterEffects {
        sla_target_ms: 10_000,
    };
    assert!(
        store
            .insert_charter_version(None, &seed, ten_seconds)
            .await
            .unwrap()
    );
    let agent = add_member(store, Role::Agent).await;
    let (conversation, fan) = open_conversation(store).await;
    apply(store, &[post(&conversation, &fan, 0, Visibility::Public)]).await;
    apply(
        store,
        &[post(&conversation, &agent, 20, Visibility::Public)],
    )
    .await;
    let rows = store
        .list_metric_rows(Timestamp::MIN, Timestamp::MAX)
        .await
        .unwrap();
    let judged: Vec<(Option<i64>, bool)> = rows
        .openings
        .iter()
        .map(|opening| (opening.frt_ms, opening.breached))
        .collect();
    assert_eq!(judged, [(Some(20_000), true)], "20 s against a 10 s target");
}

store_test!(
    reviews_list_newest_first,
    reviews_list_newest_first_sqlite,
    reviews_list_newest_first_postgres
);
async fn reviews_list_newest_first(store: &Store) {
    assert!(
        store
            .insert_charter_version(None, &version(1, "", None), TARGET_60S)
            .await
            .unwrap()
    );
    assert_eq!(store.find_last_charter_review().await.unwrap(), None);
    for (id, minute) in [("rev_a", 10), ("rev_b", 30), ("rev_c", 20)] {
        let review = CharterReviewRow {
            id: id.to_owned(),
            version: 1,
            reviewed_at: at(minute * 60),
            reviewed_by: "mem_sup".to_owned(),
            reviewed_by_name: "Sue".to_owned(),
            note: format!("looked at it ({id})"),
        };
        store.insert_charter_review(&review).await.unwrap();
    }
    let ids: Vec<String> = store
        .list_charter_reviews(10)
        .await
        .unwrap()
        .into_iter()
        .map(|review| review.id)
        .collect();
    assert_eq!(ids, ["rev_b", "rev_c", "rev_a"]);
    let last = store.find_last_charter_review().await.unwrap().unwrap();
    assert_eq!((last.id.as_str(), last.reviewed_at), ("rev_b", at(1_800)));
    assert_eq!(last.note, "looked at it (rev_b)");
}
