//! The weekly report as JSON, CSV and a self-contained HTML page with inline SVG charts
//! (docs/metrics.md › Weekly report). Numbers are printed the same way in CSV and HTML:
//! seconds with one decimal, rates as fractions in CSV and percentages in HTML.

use crate::report::{ReportRow, WeeklyReport};
use crate::svg::{bar_chart, escape, rate_chart};
use std::fmt::Write as _;

pub fn to_json(report: &WeeklyReport) -> String {
    // A report is plain data; serialising it cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(String::new, |value| format!("{value:.decimals$}"))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

const CSV_HEADER: &str = "section,key,name,volume,unanswered,frt_count,frt_mean_secs,frt_p50_secs,frt_p90_secs,\
first_touch_p50_secs,sla_breaches,resolved,resolution_rate,reply_rate,mean_conversation_length,\
prev_volume,prev_frt_mean_secs,prev_frt_p90_secs,prev_resolution_rate,prev_reply_rate,prev_sla_breaches,\
delta_volume,delta_frt_mean_secs,delta_frt_p90_secs,delta_resolution_rate,delta_reply_rate,delta_sla_breaches,\
conversions,revenue_cents";

/// One line per table row: `overall`, then `agent` and `shift` rows.
pub fn to_csv(report: &WeeklyReport) -> String {
    let mut csv = String::from(CSV_HEADER);
    csv.push('\n');
    let sections = std::iter::once(("overall", &report.overall))
        .chain(report.agents.iter().map(|row| ("agent", row)))
        .chain(report.shifts.iter().map(|row| ("shift", row)));
    for (section, row) in sections {
        let (now, before, delta) = (&row.this_week, &row.previous_week, &row.delta);
        let fields = [
            section.to_owned(),
            csv_field(row.key.as_deref().unwrap_or("")),
            csv_field(&row.name),
            now.volume.to_string(),
            now.unanswered.to_string(),
            now.first_response_secs.count.to_string(),
            number(now.first_response_secs.mean, 1),
            number(now.first_response_secs.p50, 1),
            number(now.first_response_secs.p90, 1),
            number(now.first_touch_secs.p50, 1),
            now.sla_breaches.to_string(),
            now.resolved.to_string(),
            number(now.resolution_rate, 4),
            number(now.reply_rate, 4),
            number(now.mean_conversation_length, 2),
            before.volume.to_string(),
            number(before.first_response_secs.mean, 1),
            number(before.first_response_secs.p90, 1),
            number(before.resolution_rate, 4),
            number(before.reply_rate, 4),
            before.sla_breaches.to_string(),
            delta.volume.to_string(),
            number(delta.frt_mean_secs, 1),
            number(delta.frt_p90_secs, 1),
            number(delta.resolution_rate, 4),
            number(delta.reply_rate, 4),
            delta.sla_breaches.to_string(),
            row.conversions.to_string(),
            row.revenue_cents.to_string(),
        ];
        csv.push_str(&fields.join(","));
        csv.push('\n');
    }
    csv
}

/// An amount of cents as currency units with two decimals.
fn cents(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let value = value.unsigned_abs();
    format!("{sign}{}.{:02}", value / 100, value % 100)
}

/// The conversions and revenue of each event.
fn events_table(report: &WeeklyReport) -> String {
    if report.events.is_empty() {
        return String::new();
    }
    let mut html = String::from(
        "<h2>Per event</h2><table><thead><tr><th>Event</th><th>Conversions</th><th>Revenue</th>\
         </tr></thead><tbody>",
    );
    for event in &report.events {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&event.title),
            event.conversions,
            cents(event.revenue_cents),
        );
    }
    html.push_str("</tbody></table>");
    html
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |value| format!("{:.1}%", value * 100.0))
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |value| format!("{value:.1} s"))
}

/// A signed change; `better_when_lower` colours it.
fn change(value: Option<f64>, unit: &str, scale: f64, better_when_lower: bool) -> String {
    let Some(value) = value else {
        return "<td class=\"delta\">–</td>".to_owned();
    };
    let class = if value == 0.0 {
        "same"
    } else if (value < 0.0) == better_when_lower {
        "better"
    } else {
        "worse"
    };
    format!(
        "<td class=\"delta {class}\">{:+.1}{unit}</td>",
        value * scale
    )
}

fn table(title: &str, rows: &[&ReportRow]) -> String {
    let mut html = format!(
        "<h2>{}</h2><table><thead><tr><th>Name</th><th>Volume</th><th>Δ</th><th>FRT mean</th><th>Δ</th>\
         <th>FRT p50</th><th>FRT p90</th><th>Δ</th><th>First touch p50</th><th>SLA breaches</th><th>Δ</th>\
         <th>Resolution rate</th><th>Δ</th><th>Reply rate</th><th>Δ</th><th>Mean length</th>\
         <th>Conversions</th><th>Revenue</th></tr></thead><tbody>",
        escape(title)
    );
    for row in rows {
        let (now, delta) = (&row.this_week, &row.delta);
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td>{}<td>{}</td>{}<td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td>{}<td>{}</td>{}<td>{}</td>{}<td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.name),
            now.volume,
            change(Some(delta.volume as f64), "", 1.0, false),
            seconds(now.first_response_secs.mean),
            change(delta.frt_mean_secs, " s", 1.0, true),
            seconds(now.first_response_secs.p50),
            seconds(now.first_response_secs.p90),
            change(delta.frt_p90_secs, " s", 1.0, true),
            seconds(now.first_touch_secs.p50),
            now.sla_breaches,
            change(Some(delta.sla_breaches as f64), "", 1.0, true),
            percent(now.resolution_rate),
            change(delta.resolution_rate, " pt", 100.0, false),
            percent(now.reply_rate),
            change(delta.reply_rate, " pt", 100.0, false),
            now.mean_conversation_length
                .map_or_else(|| "–".to_owned(), |length| format!("{length:.1}")),
            row.conversions,
            cents(row.revenue_cents),
        );
    }
    html.push_str("</tbody></table>");
    html
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse;margin-bottom:1.5rem}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:right}\
th:first-child,td:first-child{text-align:left}.better{color:#137333}.worse{color:#b3261e}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem}\
.chart{width:100%;height:auto;border:1px solid #eee}.chart-title{font-weight:600;font-size:13px}\
.axis,.legend{font-size:10px;fill:#555}";

/// A self-contained page: inline style, inline SVG, no scripts.
pub fn to_html(report: &WeeklyReport) -> String {
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fandesk weekly report {week}</title>\
         <style>{STYLE}</style></head><body><h1>Weekly report {week}</h1>\
         <p>{from} – {to} ({zone}). Definitions: docs/metrics.md in the fandesk repository; percentiles by nearest rank.</p>",
        week = escape(&report.week),
        from = report.from,
        to = report.to,
        zone = escape(&report.time_zone),
    );
    html.push_str(&table("Overall", &[&report.overall]));
    html.push_str(&table(
        "Per agent",
        &report.agents.iter().collect::<Vec<_>>(),
    ));
    html.push_str(&table(
        "Per shift",
        &report.shifts.iter().collect::<Vec<_>>(),
    ));
    html.push_str(&events_table(report));
    html.push_str("<div class=\"charts\">");
    let labels: Vec<String> = report
        .frt_distribution
        .iter()
        .map(|bucket| bucket.label.clone())
        .collect();
    let counts: Vec<u64> = report
        .frt_distribution
        .iter()
        .map(|bucket| bucket.count)
        .collect();
    html.push_str(&bar_chart(
        "frt-distribution",
        "First response time distribution",
        &labels,
        &counts,
    ));
    let hours: Vec<String> = (0..24).map(|hour| format!("{hour:02}")).collect();
    html.push_str(&bar_chart(
        "volume-by-hour",
        "Volume by hour (openings)",
        &hours,
        &report.volume_by_hour,
    ));
    let days: Vec<String> = report
        .daily
        .iter()
        .map(|day| day.date.get(5..).unwrap_or(&day.date).to_owned())
        .collect();
    let resolution: Vec<Option<f64>> = report.daily.iter().map(|day| day.resolution_rate).collect();
    html.push_str(&rate_chart(
        "resolution-trend",
        "Resolution rate by day",
        &days,
        &[("resolution", "#4f6bed", resolution)],
    ));
    let engagement: Vec<Option<f64>> = report.daily.iter().map(|day| day.reply_rate).collect();
    html.push_str(&rate_chart(
        "engagement-trend",
        "Fan reply rate by day",
        &days,
        &[("reply rate", "#e8710a", engagement)],
    ));
    html.push_str("</div></body></html>\n");
    html
}
