//! Charts as inline SVG, rendered on the server: no chart library, no script, and they print.
//! Colours come from CSS classes (`seg-<status>`), so charts follow the one palette in
//! `static/app.css`. Every chart carries a `<title>`/`<desc>` and the pages show the same
//! numbers as text next to it, for screen readers and for people who prefer numbers.

use std::fmt::Write;

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

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
        r#"<svg class="chart chart-bars" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
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
}
