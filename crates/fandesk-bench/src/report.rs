//! Collecting per-run numbers, taking medians, and writing Markdown tables.

use std::collections::BTreeMap;

/// Every run's value of every (metric, column).
#[derive(Default)]
pub struct Samples {
    values: BTreeMap<(String, String), Vec<f64>>,
    notes: BTreeMap<String, Vec<String>>,
}

impl Samples {
    pub fn set_notes(&mut self, column: &str, notes: Vec<String>) {
        if !notes.is_empty() {
            self.notes.insert(column.to_owned(), notes);
        }
    }

    /// The last run's notes of `column`.
    pub fn notes(&self, column: &str) -> &[String] {
        self.notes.get(column).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn add(&mut self, metric: &str, column: &str, value: f64) {
        if value.is_finite() {
            self.values
                .entry((metric.to_owned(), column.to_owned()))
                .or_default()
                .push(value);
        }
    }

    pub fn runs(&self, metric: &str, column: &str) -> &[f64] {
        self.values
            .get(&(metric.to_owned(), column.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn median(&self, metric: &str, column: &str) -> Option<f64> {
        median(self.runs(metric, column))
    }

    /// `median (min–max)` over the runs, or `—`.
    pub fn cell(&self, metric: &str, column: &str, decimals: usize) -> String {
        let runs = self.runs(metric, column);
        let Some(mid) = median(runs) else {
            return "—".into();
        };
        if runs.len() == 1 {
            return fmt(mid, decimals);
        }
        let low = runs.iter().copied().fold(f64::INFINITY, f64::min);
        let high = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!(
            "{} ({}–{})",
            fmt(mid, decimals),
            fmt(low, decimals),
            fmt(high, decimals)
        )
    }
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// Thousands separators for big numbers, fixed decimals for small ones.
pub fn fmt(value: f64, decimals: usize) -> String {
    if value.abs() >= 10_000.0 {
        let rounded = value.round() as i64;
        let digits = rounded.abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if rounded < 0 { format!("-{out}") } else { out }
    } else {
        format!("{value:.decimals$}")
    }
}

/// One Markdown table: metric rows, one column per server, then target and verdict.
pub struct Table {
    pub title: String,
    pub notes: Vec<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Table {
        Table {
            title: title.into(),
            notes: Vec::new(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// A row of `metric`, one cell per column, then `target` and `verdict`.
    pub fn row(&mut self, metric: &str, cells: Vec<String>, target: &str, verdict: &str) {
        let mut row = vec![metric.to_owned()];
        row.extend(cells);
        row.push(target.to_owned());
        row.push(verdict.to_owned());
        self.rows.push(row);
    }

    /// A row straight from samples.
    pub fn sample_row(
        &mut self,
        samples: &Samples,
        metric: &str,
        label: &str,
        decimals: usize,
        target: &str,
        verdict: &str,
    ) {
        let cells = self
            .columns
            .iter()
            .map(|column| samples.cell(metric, column, decimals))
            .collect();
        self.row(label, cells, target, verdict);
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        for note in &self.notes {
            out.push_str(&format!("- {note}\n"));
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        let mut header = vec!["metric".to_owned()];
        header.extend(self.columns.iter().cloned());
        header.push("target".into());
        header.push("fandesk vs target".into());
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|cell| cell.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }
}

/// "met" / "not met" / "n/a" for a fandesk value against a bound.
pub fn verdict(value: Option<f64>, ok: impl Fn(f64) -> bool) -> String {
    match value {
        Some(value) if ok(value) => "met".into(),
        Some(_) => "**not met**".into(),
        None => "n/a".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_cells() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        let mut samples = Samples::default();
        for v in [10.0, 30.0, 20.0] {
            samples.add("m", "a", v);
        }
        assert_eq!(samples.cell("m", "a", 1), "20.0 (10.0–30.0)");
        assert_eq!(samples.cell("m", "b", 1), "—");
        assert_eq!(fmt(1_234_567.4, 1), "1,234,567");
        assert_eq!(fmt(12.345, 2), "12.35");
    }
}
