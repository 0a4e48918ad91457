//! The line of a key in a flow's source, for errors found after parsing (an unknown step
//! named by `next`, a choice too long): the parsers know lines only while they read.
//! The search follows the dotted path one key at a time, each found below the previous
//! one, which is exact for block YAML and pretty-printed JSON (the forms people write);
//! when a key cannot be found the line of its nearest parent is given.

/// One part of a path such as `steps.greet.menu[1].next`.
#[derive(Debug, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut parts = Vec::new();
    for piece in path.split('.').filter(|piece| !piece.is_empty()) {
        let (key, mut rest) = match piece.find('[') {
            Some(open) => (&piece[..open], &piece[open..]),
            None => (piece, ""),
        };
        if !key.is_empty() {
            parts.push(Segment::Key(key));
        }
        while let Some(close) = rest.find(']') {
            if let Some(Ok(index)) = rest.get(1..close).map(str::parse) {
                parts.push(Segment::Index(index));
            }
            rest = &rest[close + 1..];
        }
    }
    parts
}

/// True when `line` holds `key` as a mapping key (YAML `key:`, `- key:`, JSON `"key":`).
fn holds_key(line: &str, key: &str) -> bool {
    let mut text = line.trim_start();
    while let Some(rest) = text.strip_prefix("- ").or_else(|| text.strip_prefix('{')) {
        text = rest.trim_start();
    }
    let quoted = format!("\"{key}\"");
    let json = line
        .match_indices(&quoted)
        .any(|(at, _)| line[at + quoted.len()..].trim_start().starts_with(':'));
    json || [format!("{key}:"), format!("'{key}':")]
        .iter()
        .any(|form| text.starts_with(form.as_str()))
}

/// True when `line` starts a list item (YAML `- `, a JSON object in an array).
fn starts_item(line: &str) -> bool {
    let text = line.trim_start();
    text.starts_with("- ") || text == "-" || text.starts_with('{')
}

/// The 1-based line of `path` in `source`, or of its nearest parent found; `None` when not
/// even the first key is there.
pub(crate) fn line_of(source: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = source.lines().collect();
    let parts = segments(path);
    let mut found: Option<usize> = None;
    let mut skip = 0;
    for (position, part) in parts.iter().enumerate() {
        let from = found.map_or(0, |line| line + 1);
        match part {
            Segment::Key(key) => {
                let mut hits = (from..lines.len()).filter(|&line| holds_key(lines[line], key));
                match hits.nth(skip) {
                    Some(line) => found = Some(line),
                    None => break,
                }
                skip = 0;
            }
            Segment::Index(index) => {
                // The item's own key is searched next: the index-th one below the list.
                if matches!(parts.get(position + 1), Some(Segment::Key(_))) {
                    skip = *index;
                    continue;
                }
                let mut items = (from..lines.len()).filter(|&line| starts_item(lines[line]));
                match items.nth(*index) {
                    Some(line) => found = Some(line),
                    None => break,
                }
            }
        }
    }
    found.map(|line| line + 1)
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const YAML: &str = "name: Welcome\nstart: greet\nsteps:\n  greet:\n    say: Hi\n    menu:\n      - label: Orders\n        next: orders\n      - label: Other\n        next: other\n  orders:\n    say: Soon\n    end: true\n";
    const JSON: &str = "{\n  \"name\": \"Welcome\",\n  \"start\": \"greet\",\n  \"steps\": {\n    \"greet\": {\n      \"say\": \"Hi\",\n      \"menu\": [\n        {\"label\": \"Orders\", \"next\": \"orders\"},\n        {\"label\": \"Other\", \"next\": \"other\"}\n      ]\n    }\n  }\n}\n";

    fn check(source: &str, path: &str, expected: Option<usize>) {
        assert_eq!(line_of(source, path), expected, "{path}");
    }

    #[test]
    fn finds_keys_in_yaml() {
        check(YAML, "name", Some(1));
        check(YAML, "start", Some(2));
        check(YAML, "steps.greet", Some(4));
        check(YAML, "steps.greet.menu", Some(6));
        check(YAML, "steps.greet.menu[0].next", Some(8));
        check(YAML, "steps.greet.menu[1].next", Some(10));
        check(YAML, "steps.greet.menu[1]", Some(9));
        check(YAML, "steps.orders.end", Some(13));
        // Not there: the nearest parent.
        check(YAML, "steps.orders.handoff", Some(11));
        check(YAML, "missing", None);
    }

    #[test]
    fn finds_keys_in_json() {
        check(JSON, "start", Some(3));
        check(JSON, "steps.greet.say", Some(6));
        check(JSON, "steps.greet.menu[0].next", Some(8));
        check(JSON, "steps.greet.menu[1].next", Some(9));
    }
}
