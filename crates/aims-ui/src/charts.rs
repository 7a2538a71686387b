//! Charts as inline SVG, rendered on the server: no chart library, no script, and they print.
//! Colours come from CSS classes (`seg-<status>`), so charts follow the one palette in
//! `static/app.css`. Every chart carries a `<title>`/`<desc>` and the pages show the same
//! numbers as text next to it, for screen readers and for people who prefer numbers.

use std::fmt::Write;

use crate::text::esc;

/// One part of a bar or donut: how many, and the status it stands for.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub status: &'static str,
    pub label: &'static str,
    pub count: usize,
}

/// One row of a stacked bar chart.
#[derive(Debug, Clone)]
pub(crate) struct BarRow {
    pub label: String,
    pub href: String,
    pub segments: Vec<Segment>,
    /// The count shown at the end of the row as "done/total".
    pub done: usize,
}

fn total(segments: &[Segment]) -> usize {
    segments.iter().map(|s| s.count).sum()
}

const BAR_X: f64 = 232.0;
const BAR_W: f64 = 246.0;
const ROW_H: f64 = 36.0;
const BAR_H: f64 = 14.0;
const WIDTH: f64 = 530.0;

/// A horizontal stacked bar per row, each normalised to 100 % (progress within the row), with
/// the row label on the left and "done/total" on the right. Rows link to `href`.
pub(crate) fn stacked_bars(id: &str, title: &str, rows: &[BarRow]) -> String {
    let height = ROW_H * rows.len() as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        // A group, not an image: its rows are links, and an image may not hold controls.
        r#"<svg class="chart chart-bars" viewBox="0 0 {WIDTH} {height}" role="group" aria-labelledby="{id}-t" aria-describedby="{id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&describe_rows(rows)),
    );
    for (i, row) in rows.iter().enumerate() {
        let y = ROW_H * i as f64 + 4.0;
        let bar_y = y + (ROW_H - BAR_H) / 2.0 - 2.0;
        let text_y = bar_y + BAR_H / 2.0 + 4.5;
        let sum = total(&row.segments);
        let _ = write!(svg, r#"<a href="{}" class="chart-row">"#, esc(&row.href));
        let _ = write!(svg, r#"<rect class="chart-hit" x="0" y="{y}" width="{WIDTH}" height="{}" rx="6"/>"#, ROW_H - 4.0);
        let _ = write!(svg, r#"<text class="chart-label" x="8" y="{text_y}">{}</text>"#, esc(&crate::text::truncate(&row.label, 31)));
        let _ = write!(svg, r#"<rect class="chart-track" x="{BAR_X}" y="{bar_y}" width="{BAR_W}" height="{BAR_H}" rx="4"/>"#);
        let _ = write!(
            svg,
            r#"<clipPath id="{id}-c{i}"><rect x="{BAR_X}" y="{bar_y}" width="{BAR_W}" height="{BAR_H}" rx="4"/></clipPath><g clip-path="url(#{id}-c{i})">"#
        );
        let mut x = BAR_X;
        for segment in row.segments.iter().filter(|s| s.count > 0) {
            let w = if sum == 0 { 0.0 } else { BAR_W * segment.count as f64 / sum as f64 };
            let _ = write!(
                svg,
                r#"<rect class="seg-{}" x="{x:.2}" y="{bar_y}" width="{w:.2}" height="{BAR_H}"><title>{}: {} {}</title></rect>"#,
                segment.status,
                esc(&row.label),
                segment.count,
                esc(&segment.label.to_lowercase()),
            );
            x += w;
        }
        svg.push_str("</g>");
        let _ = write!(svg, r#"<text class="chart-count" x="{}" y="{text_y}" text-anchor="end">{}/{}</text>"#, WIDTH - 8.0, row.done, sum);
        svg.push_str("</a>");
    }
    svg.push_str("</svg>");
    svg
}

fn describe_rows(rows: &[BarRow]) -> String {
    rows.iter()
        .map(|row| {
            let parts: Vec<String> = row.segments.iter().map(|s| format!("{} {}", s.count, s.label.to_lowercase())).collect();
            format!("{}: {}", row.label, parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A donut of the segments, clockwise from twelve o'clock, with `center` (a big number) and
/// `caption` in the hole.
pub(crate) fn donut(id: &str, title: &str, segments: &[Segment], center: &str, caption: &str) -> String {
    // r = 100 / 2π makes the circumference 100, so dash lengths are percentages.
    const R: f64 = 15.915_494;
    let sum = total(segments);
    let description: Vec<String> = segments.iter().map(|s| format!("{} {}", s.count, s.label.to_lowercase())).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart chart-donut" viewBox="0 0 42 42" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&description.join(", ")),
    );
    let _ = write!(svg, r#"<circle class="chart-track-ring" cx="21" cy="21" r="{R}" fill="none" stroke-width="5"/>"#);
    let mut offset = 0.0;
    for segment in segments.iter().filter(|s| s.count > 0) {
        let pct = if sum == 0 { 0.0 } else { 100.0 * segment.count as f64 / sum as f64 };
        // Dash offsets count backwards; 25 moves the start from three to twelve o'clock.
        let _ = write!(
            svg,
            r#"<circle class="ring-{}" cx="21" cy="21" r="{R}" fill="none" stroke-width="5" stroke-dasharray="{pct:.3} {:.3}" stroke-dashoffset="{:.3}"><title>{} {}</title></circle>"#,
            segment.status,
            100.0 - pct,
            25.0 - offset,
            segment.count,
            esc(&segment.label.to_lowercase()),
        );
        offset += pct;
    }
    let _ = write!(svg, r#"<text class="donut-center" x="21" y="21.5" text-anchor="middle">{}</text>"#, esc(center));
    let _ = write!(svg, r#"<text class="donut-caption" x="21" y="26.5" text-anchor="middle">{}</text>"#, esc(caption));
    svg.push_str("</svg>");
    svg
}

/// A thin progress bar made of the segments (for list headings); stretches to its container.
pub(crate) fn progress(title: &str, segments: &[Segment]) -> String {
    let sum = total(segments);
    let description: Vec<String> = segments.iter().map(|s| format!("{} {}", s.count, s.label.to_lowercase())).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="progress" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" xmlns="http://www.w3.org/2000/svg"><title>{}: {}</title><rect class="chart-track" x="0" y="0" width="100" height="6"/>"#,
        esc(title),
        esc(&description.join(", ")),
    );
    let mut x = 0.0;
    for segment in segments.iter().filter(|s| s.count > 0) {
        let w = if sum == 0 { 0.0 } else { 100.0 * segment.count as f64 / sum as f64 };
        let _ = write!(svg, r#"<rect class="seg-{}" x="{x:.3}" y="0" width="{w:.3}" height="6"/>"#, segment.status);
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

/// A number as people read it: no trailing zeros, at most three decimals ("97", "0.125").
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.to_owned() }
}

/// A number with its unit: "97%" for percentages, "12 days" for other units.
pub(crate) fn with_unit(value: f64, unit: &str) -> String {
    match unit.trim() {
        "" => number(value),
        "%" => format!("{}%", number(value)),
        unit => format!("{} {unit}", number(value)),
    }
}

/// One measured value of a trend.
#[derive(Debug, Clone)]
pub(crate) struct TrendPoint {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub value: f64,
}

/// What a trend is measured against.
#[derive(Debug, Clone)]
pub(crate) struct TrendTarget<'a> {
    pub target: f64,
    /// The target is a maximum (lower is better) rather than a minimum.
    pub at_most: bool,
    pub baseline: Option<f64>,
    pub unit: &'a str,
}

impl TrendTarget<'_> {
    pub fn met_by(&self, value: f64) -> bool {
        if self.at_most { value <= self.target } else { value >= self.target }
    }

    /// "at least 95%" / "at most 2 incidents".
    pub fn words(&self) -> String {
        format!("{} {}", if self.at_most { "at most" } else { "at least" }, with_unit(self.target, self.unit))
    }
}

/// A step of 1, 2, 2.5 or 5 times a power of ten near `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 2.5 {
        2.5
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The value axis: from, to and the step between gridlines, covering every value.
fn value_axis(values: &[f64], unit: &str) -> (f64, f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if (hi - lo).abs() < 1e-9 {
        let pad = if lo.abs() < 1e-9 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        let pad = (hi - lo) * 0.08;
        (lo - pad, hi + pad)
    };
    let step = nice_step((hi - lo) / 5.0);
    let mut from = (lo / step).floor() * step;
    let mut to = (hi / step).ceil() * step;
    // Percentages and counts that never go below zero or above 100 keep their natural bounds.
    if from < 0.0 && values.iter().all(|v| *v >= 0.0) {
        from = 0.0;
    }
    if unit.trim() == "%" && to > 100.0 && values.iter().all(|v| *v <= 100.0) {
        to = 100.0;
    }
    (from, to, step)
}

fn day_of(date: &str) -> Option<i32> {
    aims_domain::clock::parse_date(date).map(|d| d.to_julian_day())
}

fn date_of(day: i32) -> String {
    time::Date::from_julian_day(day).map(aims_domain::clock::format_date).unwrap_or_default()
}

const TREND_W: f64 = 680.0;
const TREND_H: f64 = 280.0;
const TREND_L: f64 = 58.0;
const TREND_R: f64 = 92.0;
const TREND_T: f64 = 18.0;
const TREND_B: f64 = 40.0;
/// Room between the plot's edge and the first and last points.
const TREND_INSET: f64 = 14.0;

/// A line chart of measurements over time (dates to scale), with the target as a dashed line,
/// the side of it that meets the target lightly shaded, the baseline dotted when there is one,
/// value gridlines and date ticks. Each point has a tooltip; the latest value is labelled.
/// `points` may be in any order; points with an unreadable date are left out.
pub(crate) fn trend(id: &str, title: &str, points: &[TrendPoint], goal: &TrendTarget) -> String {
    let mut series: Vec<(i32, &TrendPoint)> = points.iter().filter_map(|p| Some((day_of(&p.date)?, p))).collect();
    // Stable: measurements of the same day stay in the order they were entered.
    series.sort_by_key(|(day, _)| *day);
    let mut all: Vec<f64> = series.iter().map(|(_, p)| p.value).collect();
    all.push(goal.target);
    all.extend(goal.baseline);
    let (from, to, step) = value_axis(&all, goal.unit);
    let plot_w = TREND_W - TREND_L - TREND_R;
    let plot_h = TREND_H - TREND_T - TREND_B;
    let bottom = TREND_T + plot_h;
    let right = TREND_L + plot_w;
    let y = |v: f64| bottom - (v - from) / (to - from) * plot_h;
    let (first_day, last_day) = (series.first().map_or(0, |s| s.0), series.last().map_or(0, |s| s.0));
    let span = f64::from(last_day - first_day);
    let x = |day: i32| {
        if span <= 0.0 {
            TREND_L + plot_w / 2.0
        } else {
            TREND_L + TREND_INSET + f64::from(day - first_day) / span * (plot_w - 2.0 * TREND_INSET)
        }
    };

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart chart-trend" viewBox="0 0 {TREND_W} {TREND_H}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&describe_trend(&series, goal)),
    );

    // The side of the target that meets it.
    let target_y = y(goal.target);
    let (band_y, band_h) = if goal.at_most { (target_y, bottom - target_y) } else { (TREND_T, target_y - TREND_T) };
    let _ = write!(svg, r#"<rect class="trend-good" x="{TREND_L}" y="{band_y:.1}" width="{plot_w}" height="{:.1}"/>"#, band_h.max(0.0));

    // Value gridlines and labels.
    let ticks = ((to - from) / step).round() as i64;
    for i in 0..=ticks {
        let value = from + step * i as f64;
        let gy = y(value);
        let _ = write!(svg, r#"<line class="trend-grid" x1="{TREND_L}" y1="{gy:.1}" x2="{right}" y2="{gy:.1}"/>"#);
        let _ = write!(
            svg,
            r#"<text class="trend-axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            TREND_L - 8.0,
            gy + 4.0,
            esc(&with_unit(value, if goal.unit.trim() == "%" { "%" } else { "" }))
        );
    }
    let _ = write!(svg, r#"<line class="trend-axis-line" x1="{TREND_L}" y1="{bottom}" x2="{right}" y2="{bottom}"/>"#);

    // Date ticks: the first and last measurement and evenly spaced dates between them.
    if !series.is_empty() {
        let distinct = {
            let mut days: Vec<i32> = series.iter().map(|s| s.0).collect();
            days.dedup();
            days.len()
        };
        let count = distinct.min(5).min((last_day - first_day + 1).max(1) as usize);
        let mut shown: Vec<i32> = Vec::new();
        for i in 0..count {
            let day = if count == 1 {
                first_day
            } else {
                first_day + ((last_day - first_day) as f64 * i as f64 / (count - 1) as f64).round() as i32
            };
            if shown.last() == Some(&day) {
                continue;
            }
            shown.push(day);
            let tx = x(day);
            let _ = write!(svg, r#"<line class="trend-tick" x1="{tx:.1}" y1="{bottom}" x2="{tx:.1}" y2="{}"/>"#, bottom + 4.0);
            // The last label ends at its tick, so it stays clear of the margin's labels.
            let anchor = if count > 1 && i == count - 1 { "end" } else { "middle" };
            let _ = write!(
                svg,
                r#"<text class="trend-axis" x="{tx:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
                bottom + 18.0,
                esc(&date_of(day))
            );
        }
    }

    // Target and baseline, labelled in the right margin (apart when they are close).
    let _ = write!(svg, r#"<line class="trend-target" x1="{TREND_L}" y1="{target_y:.1}" x2="{right}" y2="{target_y:.1}"/>"#);
    let _ = write!(
        svg,
        r#"<text class="trend-ref trend-ref-target" x="{}" y="{:.1}">Target</text><text class="trend-ref-value" x="{}" y="{:.1}">{}</text>"#,
        right + 8.0,
        target_y - 2.0,
        right + 8.0,
        target_y + 11.0,
        esc(&format!("{} {}", if goal.at_most { "≤" } else { "≥" }, margin_label(goal.target, goal.unit)))
    );
    if let Some(baseline) = goal.baseline {
        let base_y = y(baseline);
        let mut label_y = base_y;
        if (label_y - target_y).abs() < 28.0 {
            label_y = if label_y >= target_y { target_y + 28.0 } else { target_y - 28.0 };
        }
        let _ = write!(svg, r#"<line class="trend-baseline" x1="{TREND_L}" y1="{base_y:.1}" x2="{right}" y2="{base_y:.1}"/>"#);
        let _ = write!(
            svg,
            r#"<text class="trend-ref" x="{}" y="{:.1}">Baseline</text><text class="trend-ref-value" x="{}" y="{:.1}">{}</text>"#,
            right + 8.0,
            label_y - 2.0,
            right + 8.0,
            label_y + 11.0,
            esc(&margin_label(baseline, goal.unit))
        );
    }

    if series.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="trend-empty" x="{}" y="{}" text-anchor="middle">No measurements yet</text>"#,
            TREND_L + plot_w / 2.0,
            TREND_T + plot_h / 2.0
        );
    } else {
        let path: Vec<String> = series
            .iter()
            .enumerate()
            .map(|(i, (day, p))| format!("{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x(*day), y(p.value)))
            .collect();
        let _ = write!(svg, r#"<path class="trend-line" d="{}"/>"#, path.join(" "));
        let last = series.len() - 1;
        for (i, (day, p)) in series.iter().enumerate() {
            let (px, py) = (x(*day), y(p.value));
            let met = goal.met_by(p.value);
            let _ = write!(
                svg,
                r#"<g class="trend-point"><title>{}: {} — {}</title><circle class="trend-hit" cx="{px:.1}" cy="{py:.1}" r="11"/><circle class="trend-dot {}" cx="{px:.1}" cy="{py:.1}" r="{}"/></g>"#,
                esc(&p.date),
                esc(&with_unit(p.value, goal.unit)),
                if met { "meets the target" } else { "misses the target" },
                if met { "trend-dot-ok" } else { "trend-dot-off" },
                if i == last { 5.5 } else { 4.0 }
            );
        }
        // The latest value, above its point (below when the point is near the top).
        let (day, p) = series[last];
        let (px, py) = (x(day), y(p.value));
        let ly = if py - TREND_T < 22.0 { py + 22.0 } else { py - 11.0 };
        let anchor = if px > right - 40.0 {
            "end"
        } else if px < TREND_L + 40.0 {
            "start"
        } else {
            "middle"
        };
        let _ = write!(
            svg,
            r#"<text class="trend-latest" x="{px:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text>"#,
            esc(&with_unit(p.value, goal.unit))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A value for the chart's right margin: with its unit when that fits, else the number alone.
fn margin_label(value: f64, unit: &str) -> String {
    let label = with_unit(value, unit);
    if label.chars().count() > 11 { number(value) } else { label }
}

fn describe_trend(series: &[(i32, &TrendPoint)], goal: &TrendTarget) -> String {
    let mut parts = Vec::new();
    match (series.first(), series.last()) {
        (Some((_, first)), Some((_, last))) => {
            parts.push(format!(
                "{} measurement{} from {} to {}",
                series.len(),
                if series.len() == 1 { "" } else { "s" },
                first.date,
                last.date
            ));
            parts.push(format!(
                "latest {} on {}, which {} the target",
                with_unit(last.value, goal.unit),
                last.date,
                if goal.met_by(last.value) { "meets" } else { "misses" }
            ));
        }
        _ => parts.push("No measurements yet".into()),
    }
    parts.push(format!("target {}", goal.words()));
    if let Some(baseline) = goal.baseline {
        parts.push(format!("baseline {}", with_unit(baseline, goal.unit)));
    }
    let mut text = parts.join("; ");
    text.push('.');
    text
}

/// A small line of the values in order, with the target dashed and the last value marked
/// (green when it meets the target). For tables; the row shows the figures as text too.
pub(crate) fn sparkline(title: &str, values: &[f64], goal: &TrendTarget) -> String {
    const W: f64 = 104.0;
    const H: f64 = 28.0;
    const PAD: f64 = 4.0;
    let mut all = values.to_vec();
    all.push(goal.target);
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = if (hi - lo).abs() < 1e-9 { 1.0 } else { hi - lo };
    let y = |v: f64| H - PAD - (v - lo) / range * (H - 2.0 * PAD);
    let x = |i: usize| if values.len() <= 1 { W / 2.0 } else { PAD + i as f64 / (values.len() - 1) as f64 * (W - 2.0 * PAD) };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="sparkline" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title)
    );
    let ty = y(goal.target);
    let _ = write!(svg, r#"<line class="spark-target" x1="0" y1="{ty:.1}" x2="{W}" y2="{ty:.1}"/>"#);
    if values.len() > 1 {
        let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ = write!(svg, r#"<polyline class="spark-line" points="{}"/>"#, points.join(" "));
    }
    if let Some(last) = values.last() {
        let _ = write!(
            svg,
            r#"<circle class="{}" cx="{:.1}" cy="{:.1}" r="3"/>"#,
            if goal.met_by(*last) { "spark-dot spark-dot-ok" } else { "spark-dot spark-dot-off" },
            x(values.len() - 1),
            y(*last)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs() -> Vec<Segment> {
        vec![
            Segment { status: "in_place", label: "In place", count: 2 },
            Segment { status: "partial", label: "Partial", count: 1 },
            Segment { status: "missing", label: "Missing", count: 1 },
        ]
    }

    #[test]
    fn bars_escape_labels_and_show_counts() {
        let rows = vec![BarRow { label: "4 <Context>".into(), href: "/x".into(), segments: segs(), done: 2 }];
        let svg = stacked_bars("g", "Gap", &rows);
        assert!(svg.contains("4 &lt;Context&gt;"));
        assert!(svg.contains(">2/4</text>"));
        assert!(svg.contains(r#"class="seg-in_place""#));
        assert!(!svg.contains("<Context>"));
    }

    #[test]
    fn donut_segments_add_up() {
        let svg = donut("d", "SoA", &segs(), "50%", "in place");
        assert!(svg.contains(r#"stroke-dasharray="50.000 50.000""#));
        assert!(svg.contains(r#"stroke-dasharray="25.000 75.000""#));
        let empty = donut("e", "SoA", &[], "0", "none");
        assert!(empty.contains("chart-track-ring"));
    }
    #[test]
    fn numbers_read_naturally() {
        assert_eq!(number(97.0), "97");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(2.5000001), "2.5");
        assert_eq!(with_unit(95.0, "%"), "95%");
        assert_eq!(with_unit(3.0, "days"), "3 days");
        assert_eq!(nice_step(23.0), 25.0);
        assert_eq!(value_axis(&[90.0, 95.0, 99.0], "%").1, 100.0);
    }

    #[test]
    fn trend_draws_points_target_and_baseline() {
        let goal = TrendTarget { target: 95.0, at_most: false, baseline: Some(80.0), unit: "%" };
        let points = vec![
            TrendPoint { date: "2026-03-01".into(), value: 97.0 },
            TrendPoint { date: "2026-01-01".into(), value: 88.5 },
            TrendPoint { date: "not a date".into(), value: 1.0 },
        ];
        let svg = trend("t", "Accuracy <trend>", &points, &goal);
        assert!(svg.contains("Accuracy &lt;trend&gt;"));
        assert_eq!(svg.matches(r#"class="trend-dot "#).count(), 2);
        assert!(svg.contains("<title>2026-01-01: 88.5% — misses the target</title>"));
        assert!(svg.contains("<title>2026-03-01: 97% — meets the target</title>"));
        assert!(svg.contains(r#"class="trend-target""#) && svg.contains(r#"class="trend-baseline""#));
        assert!(svg.contains(">2026-01-01</text>") && svg.contains(">2026-03-01</text>"));
        assert!(svg.contains("latest 97% on 2026-03-01, which meets the target; target at least 95%; baseline 80%."));
        let path = svg.split(r#"class="trend-line" d=""#).nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        assert!(path.starts_with("M72.0,"), "oldest first: {path}");
        let empty = trend("e", "None", &[], &TrendTarget { target: 2.0, at_most: true, baseline: None, unit: "" });
        assert!(empty.contains("No measurements yet"));
        let spark = sparkline("s", &[1.0, 3.0, 2.0], &TrendTarget { target: 2.0, at_most: true, baseline: None, unit: "" });
        assert!(spark.contains("spark-dot-ok") && spark.contains("<polyline"));
    }
}
