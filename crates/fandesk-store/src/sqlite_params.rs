//! Numbered placeholders (`$1`, `$2`, …) as SQLite's plain `?`, where that means the same.
//!
//! SQLite keeps a statement's `$N` parameters in a list searched by name: parsing looks up
//! each one in the names seen so far, and sqlx asks for every parameter's name to bind
//! it, each a walk of the list. A statement with n parameters therefore costs O(n²) in
//! the database's write thread; the group commit's lookups carry thousands (three per
//! idempotency key), and the profile of a direct-message load put a fifth of SQLite's
//! writer thread there. A plain `?` has no name: it takes the next number, and binding it
//! needs no search. So when the placeholders appear as `$1, $2, …, $n` in that order, each
//! once, they are sent as `?`; any other use (a number repeated, or out of order) is left
//! as written.

/// Parameters from which a statement is rewritten: the name search grows with the square
/// of their number, the rewrite (one pass over the text and a copy) only with its length.
pub(crate) const REWRITE_FROM: usize = 16;

/// `sql` with its `$N` placeholders as `?`, when they are `$1 … $n` in order, each once
/// (outside quoted text); `None` when there are none or they are numbered otherwise.
pub(crate) fn positional(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut next = 1u64;
    let mut quote: Option<u8> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match quote {
            Some(open) => {
                if byte == open {
                    quote = None;
                }
                i += 1;
            }
            None if byte == b'\'' || byte == b'"' => {
                quote = Some(byte);
                i += 1;
            }
            None if byte == b'$' => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits == 0 {
                    return None;
                }
                let number: u64 = sql[i + 1..i + 1 + digits].parse().ok()?;
                if number != next {
                    return None;
                }
                next += 1;
                out.push_str(&sql[copied..i]);
                out.push('?');
                i += 1 + digits;
                copied = i;
            }
            None => i += 1,
        }
    }
    if next == 1 {
        return None;
    }
    out.push_str(&sql[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn in_order_placeholders_become_plain_and_the_rest_stay() {
        let cases: &[(&str, Option<&str>)] = &[
            ("SELECT 1", None),
            (
                "SELECT * FROM t WHERE id = $1",
                Some("SELECT * FROM t WHERE id = ?"),
            ),
            (
                "SELECT * FROM t WHERE id IN ($1, $2, $3) AND x = $4",
                Some("SELECT * FROM t WHERE id IN (?, ?, ?) AND x = ?"),
            ),
            ("VALUES ($9, $10)", None),
            ("SELECT $1, $10", None),
            // Repeated: the same value twice must stay numbered.
            ("UPDATE t SET a = $2 WHERE id = $1 AND b < $2", None),
            ("SELECT $2, $1", None),
            ("SELECT $1, $1", None),
            // Quoted text is not a placeholder.
            ("SELECT '$1', $1", Some("SELECT '$1', ?")),
            (
                "SELECT \"a$2\" FROM t WHERE x = $1",
                Some("SELECT \"a$2\" FROM t WHERE x = ?"),
            ),
            ("SELECT 'it''s $3', $1, $2", Some("SELECT 'it''s $3', ?, ?")),
            // A lone `$` is not ours to rewrite.
            ("SELECT $ FROM t", None),
        ];
        for (sql, expected) in cases {
            assert_eq!(positional(sql).as_deref(), *expected, "{sql}");
        }
    }

    #[test]
    fn a_thousand_parameters_in_order() {
        let list: Vec<String> = (1..=1000).map(|n| format!("${n}")).collect();
        let sql = format!("SELECT * FROM t WHERE id IN ({})", list.join(", "));
        let plain = positional(&sql).expect("rewritten");
        assert_eq!(plain.matches('?').count(), 1000);
        assert!(!plain.contains('$'));
    }
}
