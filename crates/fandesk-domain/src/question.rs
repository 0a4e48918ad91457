//! An event's questions (docs/product.md › Events › Q&A): their states and what the team's
//! actions do to them, who may ask and upvote, what fans may see (never a hidden question)
//! and the two orders they are listed in.

use crate::error::RuleViolation;
use crate::role::Principal;
use crate::visibility::Audience;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// Longest question, in characters after trimming.
pub const MAX_QUESTION_CHARS: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct QuestionId(pub String);

impl QuestionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QuestionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for QuestionId {
    fn from(value: &str) -> Self {
        QuestionId(value.to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionState {
    Open,
    Answered,
    Pinned,
    /// Taken down by the team: fans never see it again, anywhere.
    Hidden,
}

impl QuestionState {
    pub const ALL: [QuestionState; 4] = [
        QuestionState::Open,
        QuestionState::Answered,
        QuestionState::Pinned,
        QuestionState::Hidden,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionState::Open => "open",
            QuestionState::Answered => "answered",
            QuestionState::Pinned => "pinned",
            QuestionState::Hidden => "hidden",
        }
    }

    pub fn parse(text: &str) -> Option<QuestionState> {
        QuestionState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
    }

    /// Whether `audience` may see a question in this state: fans never see a hidden one.
    pub fn visible_to(self, audience: Audience) -> bool {
        audience == Audience::Team || self != QuestionState::Hidden
    }
}

/// What the team does to a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuestionAction {
    Answer,
    Pin,
    Hide,
}

impl QuestionAction {
    pub const ALL: [QuestionAction; 3] = [
        QuestionAction::Answer,
        QuestionAction::Pin,
        QuestionAction::Hide,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionAction::Answer => "answer",
            QuestionAction::Pin => "pin",
            QuestionAction::Hide => "hide",
        }
    }

    /// The state after the action, or why it may not be taken. Taking an action whose
    /// state the question is already in changes nothing (`Ok` with the same state); a
    /// hidden question stays hidden.
    pub fn apply(self, current: QuestionState) -> Result<QuestionState, RuleViolation> {
        if current == QuestionState::Hidden {
            return match self {
                QuestionAction::Hide => Ok(QuestionState::Hidden),
                _ => Err(RuleViolation::InvalidTransition(
                    "the question is hidden: it can no longer be answered or pinned",
                )),
            };
        }
        Ok(match self {
            QuestionAction::Answer => QuestionState::Answered,
            QuestionAction::Pin => QuestionState::Pinned,
            QuestionAction::Hide => QuestionState::Hidden,
        })
    }
}

/// Trims a question and checks its length: 1–500 characters.
pub fn validate_question_body(body: &str) -> Result<String, RuleViolation> {
    let trimmed = body.trim();
    let chars = trimmed.chars().count();
    if chars == 0 {
        return Err(RuleViolation::invalid("body", "must not be empty"));
    }
    if chars > MAX_QUESTION_CHARS {
        return Err(RuleViolation::invalid(
            "body",
            format!("must be at most {MAX_QUESTION_CHARS} characters (got {chars})"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Fans ask and upvote; the team answers, pins and hides (the capability table, through
/// the room's moderation rule, decides that part).
pub fn may_ask(actor: &Principal, qa: bool) -> Result<(), RuleViolation> {
    if !matches!(actor, Principal::Fan { .. }) {
        return Err(RuleViolation::Forbidden("only fans ask questions"));
    }
    if !qa {
        return Err(RuleViolation::InvalidTransition(
            "this event does not take questions",
        ));
    }
    Ok(())
}

/// Only fans upvote, once each (the store keeps one row per question and fan).
pub fn may_upvote(actor: &Principal) -> Result<(), RuleViolation> {
    if !matches!(actor, Principal::Fan { .. }) {
        return Err(RuleViolation::Forbidden("only fans upvote questions"));
    }
    Ok(())
}

/// How a list of questions is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QuestionOrder {
    /// Most upvotes first; among equals, the oldest first.
    #[default]
    Top,
    /// Newest first.
    New,
}

impl QuestionOrder {
    pub fn parse(text: &str) -> Option<QuestionOrder> {
        match text {
            "top" => Some(QuestionOrder::Top),
            "new" => Some(QuestionOrder::New),
            _ => None,
        }
    }

    /// Compares two questions given as (upvotes, asked at, id); the id breaks ties so the
    /// order is total.
    pub fn compare(self, a: (u64, Timestamp, &str), b: (u64, Timestamp, &str)) -> Ordering {
        match self {
            QuestionOrder::Top => b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)),
            QuestionOrder::New => b.1.cmp(&a.1).then(b.2.cmp(a.2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{FanId, MemberId};
    use crate::role::Role;
    use QuestionAction::*;
    use QuestionState::*;

    #[test]
    fn actions_from_every_state() {
        // (from, action, to or refused)
        let cases: [(QuestionState, QuestionAction, Option<QuestionState>); 12] = [
            (Open, Answer, Some(Answered)),
            (Open, Pin, Some(Pinned)),
            (Open, Hide, Some(Hidden)),
            (Answered, Answer, Some(Answered)),
            (Answered, Pin, Some(Pinned)),
            (Answered, Hide, Some(Hidden)),
            (Pinned, Answer, Some(Answered)),
            (Pinned, Pin, Some(Pinned)),
            (Pinned, Hide, Some(Hidden)),
            (Hidden, Answer, None),
            (Hidden, Pin, None),
            (Hidden, Hide, Some(Hidden)),
        ];
        for (from, action, to) in cases {
            assert_eq!(action.apply(from).ok(), to, "{from:?} {action:?}");
        }
    }

    #[test]
    fn fans_never_see_hidden_questions() {
        for state in QuestionState::ALL {
            assert!(state.visible_to(Audience::Team));
            assert_eq!(
                state.visible_to(Audience::Fan),
                state != Hidden,
                "{state:?}"
            );
            assert_eq!(QuestionState::parse(state.as_str()), Some(state));
        }
        assert_eq!(QuestionState::parse("Hidden"), None);
    }

    #[test]
    fn bodies() {
        let long = "x".repeat(MAX_QUESTION_CHARS + 1);
        let cases: [(&str, Option<&str>); 5] = [
            ("  Will there be a tour?  ", Some("Will there be a tour?")),
            ("", None),
            (" \n\t ", None),
            (&long, None),
            ("é", Some("é")),
        ];
        for (body, expected) in cases {
            assert_eq!(validate_question_body(body).ok().as_deref(), expected);
        }
        let exact = "é".repeat(MAX_QUESTION_CHARS);
        assert!(validate_question_body(&exact).is_ok());
    }

    #[test]
    fn who_asks_and_upvotes() {
        let fan = Principal::Fan {
            id: FanId::from("f1"),
            name: "Ada".into(),
        };
        let member = |role| Principal::Member {
            id: MemberId::from("m1"),
            role,
            name: "Sam".into(),
        };
        let cases = [
            (fan.clone(), true, true),
            (fan.clone(), false, false),
            (member(Role::Owner), true, false),
            (member(Role::Agent), true, false),
            (member(Role::Bot), true, false),
        ];
        for (actor, qa, ok) in cases {
            assert_eq!(may_ask(&actor, qa).is_ok(), ok, "{actor:?} qa={qa}");
            assert_eq!(
                may_upvote(&actor).is_ok(),
                actor.role().is_none(),
                "{actor:?}"
            );
        }
    }

    #[test]
    fn orders() {
        let at = |secs: i64| Timestamp::from_second(1_800_000_000 + secs).unwrap();
        // (id, upvotes, asked at)
        let questions = [
            ("a", 1, at(0)),
            ("b", 5, at(10)),
            ("c", 5, at(5)),
            ("d", 0, at(20)),
            ("e", 1, at(0)),
        ];
        let sorted = |order: QuestionOrder| {
            let mut list = questions.to_vec();
            list.sort_by(|x, y| order.compare((x.1, x.2, x.0), (y.1, y.2, y.0)));
            list.iter().map(|q| q.0).collect::<String>()
        };
        assert_eq!(sorted(QuestionOrder::Top), "cbaed");
        assert_eq!(sorted(QuestionOrder::New), "dbcea");
        assert_eq!(QuestionOrder::parse("top"), Some(QuestionOrder::Top));
        assert_eq!(QuestionOrder::parse("new"), Some(QuestionOrder::New));
        assert_eq!(QuestionOrder::parse("hot"), None);
    }
}
