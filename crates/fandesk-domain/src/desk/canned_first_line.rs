//! The first-line rule (docs/product.md › Canned responses, docs/api.md › Canned
//! responses): a message sent from a template must not open with the template's unedited
//! first line, so every fan gets an opening written for them. `FANDESK_CANNED_FIRST_LINE`
//! chooses `enforce` (default), `warn` or `off`.

use serde::{Deserialize, Serialize};

/// The error code for an unedited first line (docs/api.md › Errors).
pub const FIRST_LINE_UNEDITED: &str = "canned_first_line_unedited";

/// Characters that end a line: `\n`, `\r` (so `\r\n` and old-Mac `\r` both work), and the
/// Unicode line and paragraph separators, which a client could otherwise use to glue the
/// unedited first line to an edited second one.
const LINE_BREAKS: [char; 4] = ['\n', '\r', '\u{2028}', '\u{2029}'];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstLineMode {
    /// Reject an unedited first line with `canned_first_line_unedited`.
    #[default]
    Enforce,
    /// Send it, flagged, so supervisors can coach.
    Warn,
    /// No check.
    Off,
}

impl FirstLineMode {
    pub const ALL: [FirstLineMode; 3] = [
        FirstLineMode::Enforce,
        FirstLineMode::Warn,
        FirstLineMode::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FirstLineMode::Enforce => "enforce",
            FirstLineMode::Warn => "warn",
            FirstLineMode::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<FirstLineMode> {
        FirstLineMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FirstLineVerdict {
    /// Edited, no first line to compare, or the rule is off.
    Allowed,
    /// Unedited under `warn`: send, and record the warning with the message.
    AllowedWithWarning,
    /// Unedited under `enforce`: refuse with [`FIRST_LINE_UNEDITED`].
    Rejected,
}

impl FirstLineVerdict {
    pub fn allows_send(self) -> bool {
        self != FirstLineVerdict::Rejected
    }

    /// [`FIRST_LINE_UNEDITED`] when the first line was unedited (as the error under
    /// `enforce`, as the warning under `warn`).
    pub fn code(self) -> Option<&'static str> {
        match self {
            FirstLineVerdict::Allowed => None,
            FirstLineVerdict::AllowedWithWarning | FirstLineVerdict::Rejected => {
                Some(FIRST_LINE_UNEDITED)
            }
        }
    }
}

/// The first line of `text` that holds anything but whitespace, without its surrounding
/// whitespace; `None` for blank text.
///
/// The first *non-blank* line, because the rule compares it trimmed (docs/product.md ›
/// Canned responses): a template or a message that starts with an empty line still opens
/// with its first words, and leading newlines must neither dodge the rule nor trip it.
/// Whitespace inside the line counts, as does letter case: "Hi  Anna" and "hi Anna" are
/// edits, however small.
pub fn first_line(text: &str) -> Option<&str> {
    text.split(LINE_BREAKS)
        .map(str::trim)
        .find(|line| !line.is_empty())
}

/// Compares the sent message's first line with the rendered template's first line.
pub fn check_first_line(
    sent_body: &str,
    rendered_template: &str,
    mode: FirstLineMode,
) -> FirstLineVerdict {
    let unedited = || match (first_line(sent_body), first_line(rendered_template)) {
        (Some(sent), Some(template)) => sent == template,
        _ => false,
    };
    match mode {
        FirstLineMode::Off => FirstLineVerdict::Allowed,
        FirstLineMode::Warn if unedited() => FirstLineVerdict::AllowedWithWarning,
        FirstLineMode::Enforce if unedited() => FirstLineVerdict::Rejected,
        FirstLineMode::Warn | FirstLineMode::Enforce => FirstLineVerdict::Allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FirstLineMode::{Enforce, Off, Warn};
    use FirstLineVerdict::{Allowed, AllowedWithWarning, Rejected};

    const TEMPLATE: &str = "Hi Anna, thanks for your message!\nYour order ships Monday.";

    fn check(sent: &str, template: &str, mode: FirstLineMode, expected: FirstLineVerdict) {
        let got = check_first_line(sent, template, mode);
        assert_eq!(got, expected, "sent {sent:?} from {template:?} in {mode:?}");
    }

    #[test]
    fn first_line_rule() {
        // Sent exactly as rendered, or with only the rest edited: unedited.
        check(TEMPLATE, TEMPLATE, Enforce, Rejected);
        check(
            "Hi Anna, thanks for your message!\nShips Tuesday now.",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        check(
            "Hi Anna, thanks for your message!",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        // Surrounding whitespace and blank lines do not count as edits.
        check(
            "  Hi Anna, thanks for your message!  \n",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        check(
            "\n\n \t\nHi Anna, thanks for your message!\nx",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        check(
            TEMPLATE,
            "\n  Hi Anna, thanks for your message!\r\n",
            Enforce,
            Rejected,
        );
        // CRLF, lone CR and Unicode separators end a line like LF.
        check(
            "Hi Anna, thanks for your message!\r\nYour order…",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        check(
            "Hi Anna, thanks for your message!\rmore",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        check(
            "Hi Anna, thanks for your message!\u{2028}more",
            TEMPLATE,
            Enforce,
            Rejected,
        );
        // Any edit to the first line, however small, passes.
        check(
            "Hi Anna, thanks so much for your message!\nYour order ships Monday.",
            TEMPLATE,
            Enforce,
            Allowed,
        );
        check(
            "Hi Anna,  thanks for your message!",
            TEMPLATE,
            Enforce,
            Allowed,
        );
        check(
            "hi Anna, thanks for your message!",
            TEMPLATE,
            Enforce,
            Allowed,
        );
        // A new opening line before the template's text passes: that is the point.
        check(
            "Anna! Great to hear from you.\nHi Anna, thanks for your message!",
            TEMPLATE,
            Enforce,
            Allowed,
        );
        // Appending to the first line changes it.
        check(
            "Hi Anna, thanks for your message! Ships Monday.",
            TEMPLATE,
            Enforce,
            Allowed,
        );
        // Nothing to compare: a blank template never blocks.
        check("anything", " \n ", Enforce, Allowed);
        // Warn and off modes.
        check(TEMPLATE, TEMPLATE, Warn, AllowedWithWarning);
        check(
            "Edited opening\nYour order ships Monday.",
            TEMPLATE,
            Warn,
            Allowed,
        );
        check(TEMPLATE, TEMPLATE, Off, Allowed);
    }

    #[test]
    fn verdicts_and_modes() {
        assert!(!Rejected.allows_send());
        assert!(AllowedWithWarning.allows_send());
        assert_eq!(Rejected.code(), Some("canned_first_line_unedited"));
        assert_eq!(
            AllowedWithWarning.code(),
            Some("canned_first_line_unedited")
        );
        assert_eq!(Allowed.code(), None);
        assert_eq!(FirstLineMode::default(), Enforce);
        for mode in FirstLineMode::ALL {
            assert_eq!(FirstLineMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(FirstLineMode::parse("strict"), None);
        assert_eq!(first_line("\r\n  \r\n  Hello  \r\nworld"), Some("Hello"));
        assert_eq!(first_line(" \n\t"), None);
    }
}
