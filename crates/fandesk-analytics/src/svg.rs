//! Hand-made inline SVG charts for the weekly report (docs/metrics.md › Weekly report):
//! a bar chart and a line chart, no scripts, text escaped.

use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 32.0;
const BOTTOM: f64 = 48.0;

/// Escapes text for HTML and SVG content and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn open(id: &str, title: &str) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}"><title>{title}</title>"#,
        title = escape(title)
    );
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="18" class="chart-title">{}</text>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/>"##,
        base = HEIGHT - BOTTOM,
        right = WIDTH - RIGHT
    );
    svg
}

fn axis_label(svg: &mut String, x: f64, label: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y}" text-anchor="middle" class="axis">{}</text>"#,
        escape(label),
        y = HEIGHT - BOTTOM + 16.0
    );
}

fn max_label(svg: &mut String, text: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x}" y="{TOP}" text-anchor="end" class="axis">{}</text>"#,
        escape(text),
        x = LEFT - 6.0
    );
}

/// Vertical bars, one per label.
pub(crate) fn bar_chart(id: &str, title: &str, labels: &[String], values: &[u64]) -> String {
    let mut svg = open(id, title);
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    max_label(&mut svg, &format!("{}", max as u64));
    for (index, (label, value)) in labels.iter().zip(values).enumerate() {
        let height = *value as f64 / max * plot_height;
        let x = LEFT + index as f64 * slot;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{height:.1}" fill="#4f6bed"><title>{}: {value}</title></rect>"##,
            escape(label),
            y = HEIGHT - BOTTOM - height,
            w = slot * 0.8
        );
        if labels.len() <= 12 || index % 3 == 0 {
            axis_label(&mut svg, x + slot * 0.4, label);
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Lines of values between 0 and 1 (rates), one point per label; gaps where a value is
/// missing.
pub(crate) fn rate_chart(
    id: &str,
    title: &str,
    labels: &[String],
    series: &[(&str, &str, Vec<Option<f64>>)],
) -> String {
    let mut svg = open(id, title);
    let plot_height = HEIGHT - TOP - BOTTOM;
    let step = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    max_label(&mut svg, "100%");
    let x_of = |index: usize| LEFT + step * (index as f64 + 0.5);
    for (index, label) in labels.iter().enumerate() {
        axis_label(&mut svg, x_of(index), label);
    }
    for (series_index, (name, colour, values)) in series.iter().enumerate() {
        let mut path = String::new();
        let mut pen_down = false;
        for (index, value) in values.iter().enumerate() {
            let Some(value) = value else {
                pen_down = false;
                continue;
            };
            let y = HEIGHT - BOTTOM - value.clamp(0.0, 1.0) * plot_height;
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if pen_down { "L" } else { "M" },
                x_of(index),
                y
            );
            pen_down = true;
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{y:.1}" r="3" fill="{colour}"><title>{}: {:.1}%</title></circle>"#,
                x_of(index),
                escape(name),
                value * 100.0
            );
        }
        let _ = write!(
            svg,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.trim_end()
        );
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="18" fill="{colour}" class="legend">{}</text>"#,
            escape(name),
            x = WIDTH - RIGHT - 160.0 + series_index as f64 * 80.0
        );
    }
    svg.push_str("</svg>");
    svg
}
