//! A scheduled message's audience: listed fans, fans with any of some tags, the `vip`
//! fans, or every fan — the union of what is given (docs/api.md › Scheduled messages).

use crate::error::RuleViolation;
use crate::ids::FanId;

/// Most fan ids listed in one audience.
pub const MAX_FAN_IDS: usize = 10_000;
/// Most tags in one audience.
pub const MAX_SEGMENT_TAGS: usize = 20;
/// Longest tag, as fan profiles store them.
const MAX_TAG_CHARS: usize = 32;

/// Who a scheduled message goes to. A fan matching several parts gets it once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub fan_ids: Vec<FanId>,
    /// Lowercase tags; a fan with any of them is in.
    pub tags: Vec<String>,
    /// Fans tagged `vip`.
    pub vip: bool,
    /// Every fan.
    pub all: bool,
}

impl Segment {
    /// Checks and normalises what a person gave: at least one part; ids non-empty and
    /// unique; tags as fan profiles spell them (`a-z`, `0-9`, `_`, `-`), lowercased,
    /// sorted, without repeats.
    pub fn new(
        fan_ids: Vec<String>,
        tags: Vec<String>,
        vip: bool,
        all: bool,
    ) -> Result<Segment, RuleViolation> {
        if fan_ids.len() > MAX_FAN_IDS {
            return Err(RuleViolation::invalid(
                "audience.fan_ids",
                format!("at most {MAX_FAN_IDS} fans; use tags for larger segments"),
            ));
        }
        let mut ids: Vec<FanId> = Vec::with_capacity(fan_ids.len());
        for id in fan_ids {
            let id = id.trim();
            if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(RuleViolation::invalid(
                    "audience.fan_ids",
                    "each fan id is 1 to 128 visible ASCII characters",
                ));
            }
            ids.push(FanId::from(id));
        }
        ids.sort();
        ids.dedup();
        if tags.len() > MAX_SEGMENT_TAGS {
            return Err(RuleViolation::invalid(
                "audience.tags",
                format!("at most {MAX_SEGMENT_TAGS} tags"),
            ));
        }
        let mut normalized = Vec::with_capacity(tags.len());
        for tag in tags {
            let tag = tag.trim().to_lowercase();
            let allowed =
                |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
            if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS || !tag.chars().all(allowed) {
                return Err(RuleViolation::invalid(
                    "audience.tags",
                    format!("each tag is 1 to {MAX_TAG_CHARS} characters of a-z, 0-9, _ and -"),
                ));
            }
            normalized.push(tag);
        }
        normalized.sort();
        normalized.dedup();
        if ids.is_empty() && normalized.is_empty() && !vip && !all {
            return Err(RuleViolation::invalid(
                "audience",
                "name fans (fan_ids), tags, vip or all",
            ));
        }
        Ok(Segment {
            fan_ids: ids,
            tags: normalized,
            vip,
            all,
        })
    }

    /// The tags a fan must have one of: the listed tags, and `vip` when asked for.
    pub fn tags_matched(&self) -> Vec<String> {
        let mut tags = self.tags.clone();
        if self.vip && !tags.iter().any(|tag| tag == "vip") {
            tags.push("vip".to_owned());
            tags.sort();
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    /// `expected`: `Ok((ids, tags matched))` or `Err(field)`.
    fn check(
        fan_ids: &[&str],
        tags: &[&str],
        vip: bool,
        all: bool,
        expected: Result<(&[&str], &[&str]), &str>,
    ) {
        let got = Segment::new(strings(fan_ids), strings(tags), vip, all);
        match (got, expected) {
            (Ok(segment), Ok((ids, matched))) => {
                let got_ids: Vec<&str> = segment.fan_ids.iter().map(FanId::as_str).collect();
                assert_eq!(got_ids, ids);
                assert_eq!(segment.tags_matched(), strings(matched));
            }
            (Err(RuleViolation::Invalid { field, .. }), Err(expected)) => {
                assert_eq!(field, expected)
            }
            (got, expected) => panic!("{fan_ids:?} {tags:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn segments() {
        check(
            &["fan_b", "fan_a", "fan_b"],
            &[],
            false,
            false,
            Ok((&["fan_a", "fan_b"], &[])),
        );
        check(
            &[],
            &["Fans", " early-bird "],
            false,
            false,
            Ok((&[], &["early-bird", "fans"])),
        );
        check(&[], &[], true, false, Ok((&[], &["vip"])));
        check(&[], &["vip", "x"], true, false, Ok((&[], &["vip", "x"])));
        check(&[], &[], false, true, Ok((&[], &[])));
        check(&[], &[], false, false, Err("audience"));
        check(&[""], &[], false, false, Err("audience.fan_ids"));
        check(&["a b"], &[], false, false, Err("audience.fan_ids"));
        check(&[], &["no spaces"], false, false, Err("audience.tags"));
        check(&[], &["ünï"], false, false, Err("audience.tags"));
        check(&[], &[&"t".repeat(33)], false, false, Err("audience.tags"));
        let many: Vec<String> = (0..=MAX_FAN_IDS).map(|n| format!("fan_{n}")).collect();
        assert!(Segment::new(many, Vec::new(), false, false).is_err());
    }
}
