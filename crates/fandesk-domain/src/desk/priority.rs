//! The priority score of a waiting conversation (docs/product.md › Routing, priority and
//! shifts): fan value, detected intent, sentiment and waiting time, each kept as a named
//! input so the team can see "why is this first?".
//!
//! Weights, in points:
//!
//! | input | points |
//! |---|---|
//! | urgent intent (refund, cancel, complaint, …) | 1,000 |
//! | purchase intent (buy, price, subscribe, order, …) | 250 |
//! | `vip` tag | 300 |
//! | lifetime spend ≥ 10 / 100 / 500 / 1,000 / 5,000 (currency units) | 25 / 50 / 100 / 150 / 200 |
//! | negative sentiment (−1 … 0) | up to 100 (−0.5 → 50) |
//! | waiting | 10 a minute (1 per 6 s), no ceiling |
//!
//! The order this produces: at equal waiting time urgent intent always comes first, because
//! 1,000 exceeds the most any other mix can add (300 + 200 + 250 + 100 = 850). Next come
//! VIPs and big spenders. Waiting time breaks ties within seconds and, since it has no
//! ceiling, eventually lifts any old wait above fresh arrivals: 30 minutes equal the `vip`
//! tag, 100 minutes equal urgent intent, so no fan starves behind a stream of refunds.

use serde::Serialize;

pub const URGENT_INTENT_POINTS: i64 = 1_000;
pub const PURCHASE_INTENT_POINTS: i64 = 250;
pub const VIP_POINTS: i64 = 300;
/// `(minimum lifetime spend in cents, points)`, highest tier first.
pub const SPEND_TIERS: [(i64, i64); 5] = [
    (500_000, 200),
    (100_000, 150),
    (50_000, 100),
    (10_000, 50),
    (1_000, 25),
];
/// Points for the most negative sentiment (−1.0); scaled linearly, positive adds nothing.
pub const NEGATIVE_SENTIMENT_MAX_POINTS: i64 = 100;
/// One point per this many seconds waited: 10 points a minute.
pub const WAITING_SECONDS_PER_POINT: i64 = 6;

/// Words that mean the fan wants money back or out: handled before anything else.
const URGENT_WORDS: &[&str] = &[
    "refund",
    "refunds",
    "refunded",
    "chargeback",
    "cancel",
    "cancels",
    "cancelled",
    "canceled",
    "cancelling",
    "canceling",
    "cancellation",
    "cancellations",
    "unsubscribe",
    "complaint",
    "complaints",
    "complain",
];

/// Words that signal a sale in progress.
const PURCHASE_WORDS: &[&str] = &[
    "buy",
    "buying",
    "purchase",
    "purchasing",
    "price",
    "prices",
    "pricing",
    "cost",
    "subscribe",
    "subscribing",
    "subscription",
    "order",
    "ordering",
];

/// What the fan wants, from keywords in their messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Refund, cancellation or complaint.
    Urgent,
    /// Buying, pricing, subscribing, ordering.
    Purchase,
}

/// The detected intent and the word that revealed it (shown as the input's reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntentMatch {
    pub intent: Intent,
    pub keyword: &'static str,
}

/// Everything the score depends on; the service gathers it, the score never looks it up.
#[derive(Clone, Copy, Debug)]
pub struct PriorityFacts<'a> {
    pub lifetime_spend_cents: i64,
    /// Fan profile tags; `vip` (any case) earns [`VIP_POINTS`].
    pub tags: &'a [String],
    /// The fan's messages in this opening of the conversation.
    pub fan_messages: &'a [String],
    /// −1 (negative) … 1 (positive), when the sentiment signal has scored the fan.
    pub sentiment: Option<f64>,
    /// Seconds since the fan started waiting for a human reply.
    pub waited_seconds: i64,
}

/// One line of "why is this first?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriorityInput {
    /// `intent`, `vip`, `spend`, `sentiment` or `waiting`.
    pub name: &'static str,
    pub points: i64,
    /// A sentence for the team, e.g. `mentions "refund"`.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriorityScore {
    pub total: i64,
    /// Only inputs that added points, in the fixed order intent, vip, spend, sentiment,
    /// waiting.
    pub inputs: Vec<PriorityInput>,
}

impl PriorityScore {
    /// The score without its waiting points. Waiting points grow linearly with time, so the
    /// queue order at any instant equals the order of `base_points * 6 − waiting_since` in
    /// seconds (up to rounding); a store can sort on that without recomputing scores.
    pub fn base_points(&self) -> i64 {
        self.inputs
            .iter()
            .filter(|input| input.name != "waiting")
            .map(|input| input.points)
            .sum()
    }
}

/// Scores a conversation; see the module docs for the weights.
pub fn score(facts: &PriorityFacts<'_>) -> PriorityScore {
    let mut inputs = Vec::new();
    let messages = facts.fan_messages.iter().map(String::as_str);
    if let Some(found) = detect_intent(messages) {
        let (points, label) = match found.intent {
            Intent::Urgent => (URGENT_INTENT_POINTS, "urgent"),
            Intent::Purchase => (PURCHASE_INTENT_POINTS, "purchase"),
        };
        inputs.push(PriorityInput {
            name: "intent",
            points,
            reason: format!("{label} intent: mentions \"{}\"", found.keyword),
        });
    }
    if facts.tags.iter().any(|tag| tag.eq_ignore_ascii_case("vip")) {
        inputs.push(PriorityInput {
            name: "vip",
            points: VIP_POINTS,
            reason: "tagged vip".into(),
        });
    }
    let spend = facts.lifetime_spend_cents;
    if let Some(&(threshold, points)) = SPEND_TIERS.iter().find(|(min, _)| spend >= *min) {
        inputs.push(PriorityInput {
            name: "spend",
            points,
            reason: format!(
                "lifetime spend {} (at least {})",
                format_cents(spend),
                format_cents(threshold)
            ),
        });
    }
    if let Some(sentiment) = facts
        .sentiment
        .filter(|value| value.is_finite() && *value < 0.0)
    {
        let clamped = sentiment.max(-1.0);
        // Rounded, not truncated, so −0.005 is still 0 but −0.5 is exactly 50.
        let points = (-clamped * NEGATIVE_SENTIMENT_MAX_POINTS as f64).round() as i64;
        if points > 0 {
            inputs.push(PriorityInput {
                name: "sentiment",
                points,
                reason: format!("negative sentiment {clamped:.2}"),
            });
        }
    }
    // A clock that ran backwards (another node's skew) must not lower a score.
    let waited = facts.waited_seconds.max(0);
    let waiting_points = waited / WAITING_SECONDS_PER_POINT;
    if waiting_points > 0 {
        inputs.push(PriorityInput {
            name: "waiting",
            points: waiting_points,
            reason: format!("waiting {}", format_wait(waited)),
        });
    }
    let total = inputs.iter().map(|input| input.points).sum();
    PriorityScore { total, inputs }
}

/// The strongest intent in the messages: any urgent word wins over purchase words; within a
/// level, the first word found (in message order) is reported.
///
/// Matching is per word, case-insensitive: text is split at every character that is not
/// alphanumeric, so "REFUND!" matches `refund` but "unsubscribed" matches neither
/// `unsubscribe` nor `subscribe`. Inflections are listed explicitly. Unicode folding and
/// multi-word phrases belong to the keyword matcher of the signals (docs/product.md ›
/// Signals).
pub fn detect_intent<'a>(messages: impl IntoIterator<Item = &'a str>) -> Option<IntentMatch> {
    let mut purchase = None;
    for message in messages {
        for word in message.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            let word = word.to_lowercase();
            if let Some(keyword) = URGENT_WORDS.iter().find(|known| **known == word) {
                return Some(IntentMatch {
                    intent: Intent::Urgent,
                    keyword,
                });
            }
            if purchase.is_none() {
                purchase = PURCHASE_WORDS.iter().find(|known| **known == word).copied();
            }
        }
    }
    purchase.map(|keyword| IntentMatch {
        intent: Intent::Purchase,
        keyword,
    })
}

/// `123456` → `1,234.56`. The currency is the creator platform's; cents are its minor unit.
fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in units.chars().enumerate() {
        if index > 0 && (units.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", cents % 100)
}

fn format_wait(seconds: i64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A conversation in a test table: `(label, spend in cents, tags, messages, sentiment,
    /// waited seconds)`.
    type Case = (
        &'static str,
        i64,
        &'static [&'static str],
        &'static [&'static str],
        Option<f64>,
        i64,
    );

    fn scored(case: &Case) -> PriorityScore {
        let (_, spend, tags, messages, sentiment, waited) = *case;
        let tags: Vec<String> = tags.iter().map(|tag| tag.to_string()).collect();
        let messages: Vec<String> = messages.iter().map(|text| text.to_string()).collect();
        score(&PriorityFacts {
            lifetime_spend_cents: spend,
            tags: &tags,
            fan_messages: &messages,
            sentiment,
            waited_seconds: waited,
        })
    }

    /// `expected` lists `name=points` for every input, in order.
    fn check(case: Case, total: i64, expected: &str) {
        let got = scored(&case);
        let inputs: Vec<String> = got
            .inputs
            .iter()
            .map(|input| format!("{}={}", input.name, input.points))
            .collect();
        assert_eq!(
            (got.total, inputs.join(" ")),
            (total, expected.to_owned()),
            "{}",
            case.0
        );
    }

    /// The cases must come out of a descending sort in exactly the order given.
    fn check_order(cases: &[Case]) {
        let mut ranked: Vec<(i64, &str)> = cases
            .iter()
            .map(|case| (scored(case).total, case.0))
            .collect();
        ranked.sort_by_key(|(total, _)| std::cmp::Reverse(*total));
        let got: Vec<&str> = ranked.iter().map(|(_, label)| *label).collect();
        let expected: Vec<&str> = cases.iter().map(|case| case.0).collect();
        assert_eq!(got, expected, "scores: {ranked:?}");
    }

    #[test]
    fn inputs_and_weights() {
        check(("nothing", 0, &[], &["hi"], None, 0), 0, "");
        check(
            ("refund", 0, &[], &["I want a REFUND!"], None, 0),
            1_000,
            "intent=1000",
        );
        check(
            ("price", 0, &[], &["what's the price?"], None, 0),
            250,
            "intent=250",
        );
        check(
            (
                "urgent wins over purchase",
                0,
                &[],
                &["price?", "no, cancel it"],
                None,
                0,
            ),
            1_000,
            "intent=1000",
        );
        check(("vip any case", 0, &["VIP"], &[], None, 0), 300, "vip=300");
        check(("spend below first tier", 999, &[], &[], None, 0), 0, "");
        check(("spend tier 10", 1_000, &[], &[], None, 0), 25, "spend=25");
        check(
            ("spend tier 1000", 123_456, &[], &[], None, 0),
            150,
            "spend=150",
        );
        check(
            ("spend tier 5000", 10_000_000, &[], &[], None, 0),
            200,
            "spend=200",
        );
        check(("negative", 0, &[], &[], Some(-0.5), 0), 50, "sentiment=50");
        check(
            ("very negative clamps", 0, &[], &[], Some(-7.0), 0),
            100,
            "sentiment=100",
        );
        check(("positive adds nothing", 0, &[], &[], Some(0.9), 0), 0, "");
        check(("nan ignored", 0, &[], &[], Some(f64::NAN), 0), 0, "");
        check(("5 s rounds down", 0, &[], &[], None, 5), 0, "");
        check(("1 min", 0, &[], &[], None, 60), 10, "waiting=10");
        check(("clock skew", 0, &[], &[], None, -600), 0, "");
        check(
            (
                "everything",
                600_000,
                &["vip"],
                &["refund"],
                Some(-1.0),
                120,
            ),
            1_620,
            "intent=1000 vip=300 spend=200 sentiment=100 waiting=20",
        );
    }

    #[test]
    fn queue_order() {
        // Urgent intent dominates every non-urgent mix at equal waiting time.
        check_order(&[
            ("urgent", 0, &[], &["complaint"], None, 30),
            (
                "vip big spender buying, upset",
                900_000,
                &["vip"],
                &["buy"],
                Some(-1.0),
                30,
            ),
            ("vip", 0, &["vip"], &[], None, 30),
            ("spender", 200_000, &[], &[], None, 30),
            ("plain", 0, &[], &[], None, 30),
        ]);
        // Waiting breaks ties between otherwise equal fans.
        check_order(&[
            ("waited 50 s", 0, &["vip"], &[], None, 50),
            ("waited 20 s", 0, &["vip"], &[], None, 20),
        ]);
        // And eventually lifts old waits: 31 minutes beat a fresh vip, 101 a fresh refund.
        check_order(&[
            ("plain, 31 min", 0, &[], &[], None, 31 * 60),
            ("fresh vip", 0, &["vip"], &[], None, 0),
        ]);
        check_order(&[
            ("plain, 101 min", 0, &[], &[], None, 101 * 60),
            ("fresh refund", 0, &[], &["refund please"], None, 0),
        ]);
    }

    #[test]
    fn intent_words_match_whole_words_only() {
        let cases: [(&str, Option<(Intent, &str)>); 9] = [
            ("Refund please", Some((Intent::Urgent, "refund"))),
            (
                "I was CHARGED, refunded?",
                Some((Intent::Urgent, "refunded")),
            ),
            (
                "how do I unsubscribe",
                Some((Intent::Urgent, "unsubscribe")),
            ),
            (
                "I'd like to subscribe",
                Some((Intent::Purchase, "subscribe")),
            ),
            ("order#42 status", Some((Intent::Purchase, "order"))),
            ("disorder and buyers", None),
            ("Cancellations?", Some((Intent::Urgent, "cancellations"))),
            ("price-check then cancel", Some((Intent::Urgent, "cancel"))),
            ("", None),
        ];
        for (text, expected) in cases {
            let got = detect_intent([text]).map(|found| (found.intent, found.keyword));
            assert_eq!(got, expected, "{text:?}");
        }
    }

    #[test]
    fn reasons_explain_the_points() {
        let case: Case = (
            "reasons",
            123_456,
            &["vip"],
            &["refund"],
            Some(-0.25),
            3_725,
        );
        let reasons: Vec<String> = scored(&case).inputs.into_iter().map(|i| i.reason).collect();
        assert_eq!(
            reasons,
            [
                "urgent intent: mentions \"refund\"",
                "tagged vip",
                "lifetime spend 1,234.56 (at least 1,000.00)",
                "negative sentiment -0.25",
                "waiting 1 h 2 min",
            ]
        );
        assert_eq!(scored(&case).base_points(), 1_000 + 300 + 150 + 25);
    }
}
