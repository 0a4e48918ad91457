//! The bot rules (docs/product.md › Bots): the server, not the bot, decides whether an
//! automated public message may be sent. Never two automated public messages in a row
//! without a fan or human team public message between them; after `bots.max_exchanges`
//! fan↔bot exchanges in an opening the conversation is handed to a human, and no further
//! automated public message is accepted in that opening.
//!
//! [`BotTurns`] is what the rules remember of the current opening's public timeline; the
//! group commit advances it with every committed message (`observe`), so two racing bot
//! sends are decided one after the other against the state the first one left.

use crate::message::AuthorKind;
use crate::visibility::Visibility;

/// Exchanges allowed per opening when the charter says nothing (`bots.max_exchanges`).
pub const DEFAULT_MAX_EXCHANGES: u32 = 3;

/// The charter's bot settings the rules read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BotLimits {
    /// Fan↔bot exchanges per opening before the hand-off to a human.
    pub max_exchanges: u32,
}

impl Default for BotLimits {
    fn default() -> Self {
        BotLimits {
            max_exchanges: DEFAULT_MAX_EXCHANGES,
        }
    }
}

/// Who wrote a public message, as the bot rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    Fan,
    /// A human team member's public message that is not automated.
    Human,
    /// Any automated public message: a bot member, the away message.
    Automated,
}

impl Speaker {
    /// The speaker of a timeline entry, or `None` for what the rules ignore: internal
    /// notes, whispers and status entries are not "between" anything.
    pub fn of(author: AuthorKind, visibility: Visibility, automated: bool) -> Option<Speaker> {
        if visibility != Visibility::Public {
            return None;
        }
        match author {
            _ if automated => Some(Speaker::Automated),
            AuthorKind::Fan => Some(Speaker::Fan),
            AuthorKind::Member => Some(Speaker::Human),
            AuthorKind::Bot => Some(Speaker::Automated),
            AuthorKind::System => None,
        }
    }
}

/// Why an automated public message was refused (`bot_rule_violation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotRuleBroken {
    /// The previous counted public message was automated too.
    InARow,
    /// The opening was handed to a human.
    HandedOff,
}

impl BotRuleBroken {
    /// The refusal's sentence for the client.
    pub fn message(self) -> &'static str {
        match self {
            BotRuleBroken::InARow => {
                "an automated message needs a fan or human team message since the last automated one"
            }
            BotRuleBroken::HandedOff => {
                "this conversation was handed to a human; automated messages wait for the next opening"
            }
        }
    }
}

/// What an accepted message did to the opening.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// This automated reply completed the last allowed exchange: the conversation is
    /// handed to a human now.
    pub hands_off: bool,
}

/// The bot rules' memory of one opening. A new opening (creation, reopen) starts from
/// `BotTurns::default()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BotTurns {
    /// The last public message the rules count was automated.
    pub automated_last: bool,
    /// A fan message arrived since the last automated one (or since the opening began):
    /// the next automated reply completes an exchange.
    pub fan_waiting: bool,
    /// Fan↔bot exchanges completed in this opening.
    pub exchanges: u32,
    /// Handed to a human; stays so until the next opening.
    pub handed_off: bool,
}

impl BotTurns {
    /// Decides a public message of `speaker` and, when it is accepted, advances the state.
    /// Only automated messages can be refused; a refusal changes nothing.
    pub fn observe(&mut self, speaker: Speaker, limits: BotLimits) -> Result<Turn, BotRuleBroken> {
        match speaker {
            Speaker::Fan => {
                self.automated_last = false;
                self.fan_waiting = true;
                Ok(Turn::default())
            }
            Speaker::Human => {
                self.automated_last = false;
                Ok(Turn::default())
            }
            Speaker::Automated => {
                if self.handed_off || self.exchanges >= limits.max_exchanges {
                    return Err(BotRuleBroken::HandedOff);
                }
                if self.automated_last {
                    return Err(BotRuleBroken::InARow);
                }
                self.automated_last = true;
                if self.fan_waiting {
                    self.fan_waiting = false;
                    self.exchanges += 1;
                }
                let hands_off = self.exchanges >= limits.max_exchanges;
                self.handed_off = hands_off;
                Ok(Turn { hands_off })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds a sequence of timeline entries through the rules of one conversation and
    /// checks every verdict. Tokens: `f` fan, `h` human public reply, `n` internal note,
    /// `w` whisper, `s` status entry, `o` a new opening (reopen); `b` an automated public
    /// message accepted, `b+` accepted and handing off, `b!row` refused (in a row),
    /// `b!off` refused (handed off).
    fn check(max_exchanges: u32, sequence: &str) {
        let limits = BotLimits { max_exchanges };
        let mut turns = BotTurns::default();
        for (index, token) in sequence.split_whitespace().enumerate() {
            let (kind, visibility, automated) = match token {
                "o" => {
                    turns = BotTurns::default();
                    continue;
                }
                "f" => (AuthorKind::Fan, Visibility::Public, false),
                "h" => (AuthorKind::Member, Visibility::Public, false),
                "n" | "w" => (AuthorKind::Member, Visibility::Internal, false),
                "s" => (AuthorKind::System, Visibility::Internal, false),
                _ if token.starts_with('b') => (AuthorKind::Bot, Visibility::Public, true),
                _ => panic!("unknown token {token:?}"),
            };
            let Some(speaker) = Speaker::of(kind, visibility, automated) else {
                continue;
            };
            let got = match turns.observe(speaker, limits) {
                Ok(Turn { hands_off: true }) => "b+",
                Ok(_) if speaker == Speaker::Automated => "b",
                Ok(_) => token,
                Err(BotRuleBroken::InARow) => "b!row",
                Err(BotRuleBroken::HandedOff) => "b!off",
            };
            assert_eq!(
                got, token,
                "entry {index} of {sequence:?} (max {max_exchanges})"
            );
        }
    }

    #[test]
    fn never_two_automated_messages_in_a_row() {
        check(3, "b b!row");
        check(3, "f b b!row");
        check(3, "f b f b");
        // A human's public reply is "between" too.
        check(3, "f b h b");
        // Internal notes, whispers and status entries are not.
        check(3, "f b n b!row");
        check(3, "f b w b!row");
        check(3, "f b s b!row");
        check(3, "f b n w s f b");
        // A refusal changes nothing: the next fan message still lets the bot answer.
        check(3, "f b b!row b!row f b");
    }

    #[test]
    fn exchanges_hand_the_opening_to_a_human() {
        check(3, "f b f b f b+ f b!off");
        check(1, "f b+ f b!off h b!off");
        check(2, "f b f b+ b!off");
        // A greeting before the fan wrote is not an exchange.
        check(1, "b f b+");
        check(2, "b f b f b+");
        // Several fan messages before one answer are one exchange.
        check(2, "f f f b f f b+");
        // A bot message after a human reply, with no fan message since the last
        // automated one, is no exchange.
        check(2, "f b h b f b+");
        // Fans and humans keep talking after the hand-off.
        check(1, "f b+ f h f h f");
    }

    #[test]
    fn a_new_opening_starts_over() {
        check(1, "f b+ f b!off o f b+");
        check(3, "f b o b f b");
        check(2, "f b f b+ o f b f b+ b!off");
    }

    #[test]
    fn the_limit_in_force_decides() {
        // Three exchanges under a limit of 3, then the same state under a limit of 5.
        let mut turns = BotTurns::default();
        for _ in 0..2 {
            turns.observe(Speaker::Fan, BotLimits::default()).unwrap();
            turns
                .observe(Speaker::Automated, BotLimits::default())
                .unwrap();
        }
        assert_eq!(turns.exchanges, 2);
        turns.observe(Speaker::Fan, BotLimits::default()).unwrap();
        let raised = BotLimits { max_exchanges: 5 };
        assert_eq!(
            turns.observe(Speaker::Automated, raised),
            Ok(Turn { hands_off: false })
        );
        assert_eq!(turns.exchanges, 3);
        // Lowered below what was already spent: refused without a hand-off.
        turns.observe(Speaker::Fan, raised).unwrap();
        let lowered = BotLimits { max_exchanges: 2 };
        assert_eq!(
            turns.observe(Speaker::Automated, lowered),
            Err(BotRuleBroken::HandedOff)
        );
        assert!(!turns.handed_off);
    }

    #[test]
    fn who_counts_as_a_speaker() {
        use AuthorKind::*;
        use Visibility::*;
        let table = [
            (Fan, Public, false, Some(Speaker::Fan)),
            (Member, Public, false, Some(Speaker::Human)),
            (Member, Public, true, Some(Speaker::Automated)),
            (Bot, Public, true, Some(Speaker::Automated)),
            (Bot, Public, false, Some(Speaker::Automated)),
            (Member, Internal, false, None),
            (Bot, Internal, true, None),
            (System, Internal, false, None),
            (System, Public, false, None),
        ];
        for (kind, visibility, automated, expected) in table {
            assert_eq!(
                Speaker::of(kind, visibility, automated),
                expected,
                "{kind:?} {visibility:?} automated={automated}"
            );
        }
    }
}
