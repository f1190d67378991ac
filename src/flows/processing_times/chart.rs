//! The processing-time chart: a CSP-safe inline SVG bar chart of one
//! figure's distribution (days from receipt to decision), with its accessible
//! name and text alternative. Pure: text in, markup out.

use std::fmt::Write as _;

use super::policy::Figure;

/// Already-translated strings for [`svg_chart`], so the page stays bilingual.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartLabels {
    /// Short accessible name, e.g. "Processing times for I-130 at Boston".
    pub title: String,
    /// Full text alternative summarising the data, e.g. "80% of 124 cases
    /// were decided within 97 days…".
    pub description: String,
    /// X-axis label, e.g. "Days from receipt to decision".
    pub x_axis: String,
    /// Y-axis label, e.g. "Cases".
    pub y_axis: String,
    /// Label of the 80th-percentile marker, e.g. "80%: 97 days".
    pub p80_marker: String,
}

const VIEW_W: f64 = 640.0;
const VIEW_H: f64 = 260.0;
const PLOT_LEFT: f64 = 64.0;
const PLOT_RIGHT: f64 = 624.0;
const PLOT_TOP: f64 = 32.0;
const PLOT_BOTTOM: f64 = 208.0;
const FONT: &str = "Source Sans Pro, Helvetica, Arial, sans-serif";
/// USWDS primary blue: 7.1:1 on white.
const BAR_FILL: &str = "#005ea2";
/// USWDS base-darkest: text and the percentile marker, 17:1 on white.
const INK: &str = "#1b1b1b";
/// USWDS base-dark: axis lines, 6.4:1 on white.
const AXIS: &str = "#565c65";
/// Halo behind the percentile marker, so it stays visible over bars.
const HALO: &str = "#ffffff";
/// Decorative gridlines.
const GRID: &str = "#dfe1e2";

/// Renders the distribution of processing times of `fig` as a standalone
/// inline `<svg>` bar chart.
///
/// CSP-safe: no `style` attribute or element, no script, no external
/// references; presentation attributes only. Accessible: `role="img"`,
/// `aria-labelledby="{title_id} {title_id}-desc"`, and `<title>`/`<desc>`
/// children whose text comes from `labels`. Every text (labels and
/// `title_id`) is XML-escaped; characters not allowed in XML 1.0 are dropped.
///
/// Layout: fixed `viewBox="0 0 640 260"`, `width="100%"`. The background is
/// transparent (the colours assume a white page). Exactly one `<rect>` is
/// drawn per **non-empty** histogram bucket (empty buckets leave a gap and no
/// element), with its count above it; x ticks mark bucket boundaries in
/// days, y ticks are "nice" counts. A dashed vertical line with a white halo
/// marks the end of day `p80_days` (everything left of it was decided within
/// p80 days), labelled with `labels.p80_marker` above the plot.
#[must_use]
pub fn svg_chart(fig: &Figure, title_id: &str, labels: &ChartLabels) -> String {
    let id = escape(title_id);
    let width = fig.bucket_days.max(1);
    let n_buckets = u64::try_from(fig.histogram.len()).unwrap_or(u64::MAX);
    let domain = (n_buckets.saturating_mul(u64::from(width)))
        .max(u64::from(fig.p80_days) + 1)
        .max(1) as f64;
    let plot_w = PLOT_RIGHT - PLOT_LEFT;
    let plot_h = PLOT_BOTTOM - PLOT_TOP;
    let x_of = |days: f64| PLOT_LEFT + days / domain * plot_w;

    let max_count = fig.histogram.iter().map(|&(_, c)| c).max().unwrap_or(0);
    let y_step = nice_step(max_count, 5);
    let y_max = max_count.div_ceil(y_step).max(1).saturating_mul(y_step);
    let y_of = |count: usize| PLOT_BOTTOM - count as f64 / y_max as f64 * plot_h;

    let mut s = String::with_capacity(4096);
    // `write!` to a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEW_W} {VIEW_H}" width="100%" role="img" aria-labelledby="{id} {id}-desc" font-family="{FONT}" font-size="12" fill="{INK}">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(&labels.title),
        escape(&labels.description)
    );

    // Y gridlines and tick labels.
    let mut tick = 0;
    while tick <= y_max {
        let y = y_of(tick);
        let _ = write!(
            s,
            r#"<line x1="{PLOT_LEFT}" y1="{y:.1}" x2="{PLOT_RIGHT}" y2="{y:.1}" stroke="{GRID}" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end">{tick}</text>"#,
            PLOT_LEFT - 6.0,
            y + 4.0
        );
        match tick.checked_add(y_step) {
            Some(next) => tick = next,
            None => break,
        }
    }

    // Bars: one rect per non-empty bucket.
    let slot_w = f64::from(width) / domain * plot_w;
    let gap = if slot_w > 4.0 { 1.0 } else { 0.0 };
    for &(start, count) in fig.histogram.iter().filter(|&&(_, c)| c > 0) {
        let x = x_of(f64::from(start)) + gap;
        let y = y_of(count);
        let w = (slot_w - 2.0 * gap).max(0.5);
        let h = PLOT_BOTTOM - y;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{BAR_FILL}"/>"#
        );
        if slot_w >= 16.0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{count}</text>"#,
                x + w / 2.0,
                y - 3.0
            );
        }
    }

    // Axes.
    let _ = write!(
        s,
        r#"<line x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{PLOT_RIGHT}" y2="{PLOT_BOTTOM}" stroke="{AXIS}" stroke-width="1"/><line x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_LEFT}" y2="{PLOT_BOTTOM}" stroke="{AXIS}" stroke-width="1"/>"#
    );

    // X ticks at bucket boundaries, thinned to about ten labels.
    let boundaries = fig.histogram.len() + 1;
    let every = boundaries.div_ceil(11).max(1);
    for i in (0..boundaries).step_by(every) {
        let days = (i as u64).saturating_mul(u64::from(width));
        let x = x_of(days as f64);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{PLOT_BOTTOM}" x2="{x:.1}" y2="{:.1}" stroke="{AXIS}" stroke-width="1"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{days}</text>"#,
            PLOT_BOTTOM + 4.0,
            PLOT_BOTTOM + 17.0
        );
    }

    // Axis labels.
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13">{}</text>"#,
        (PLOT_LEFT + PLOT_RIGHT) / 2.0,
        VIEW_H - 8.0,
        escape(&labels.x_axis)
    );
    let (yl_x, yl_y) = (16.0, (PLOT_TOP + PLOT_BOTTOM) / 2.0);
    let _ = write!(
        s,
        r#"<text x="{yl_x:.1}" y="{yl_y:.1}" transform="rotate(-90 {yl_x:.1} {yl_y:.1})" text-anchor="middle" font-size="13">{}</text>"#,
        escape(&labels.y_axis)
    );

    // 80th-percentile marker: end of day p80 (values ≤ p80 lie to its left).
    let px = x_of(f64::from(fig.p80_days) + 1.0);
    let _ = write!(
        s,
        r#"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{PLOT_BOTTOM}" stroke="{HALO}" stroke-width="5"/><line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{PLOT_BOTTOM}" stroke="{INK}" stroke-width="2" stroke-dasharray="6 3"/>"#,
        PLOT_TOP - 10.0,
        PLOT_TOP - 10.0
    );
    let (anchor, tx) = if px > (PLOT_LEFT + PLOT_RIGHT) / 2.0 {
        ("end", px - 5.0)
    } else {
        ("start", px + 5.0)
    };
    let _ = write!(
        s,
        r#"<text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="13" font-weight="bold">{}</text>"#,
        PLOT_TOP - 12.0,
        escape(&labels.p80_marker)
    );

    s.push_str("</svg>");
    s
}

/// Smallest step of the form {1, 2, 5} × 10^k with at most `max_ticks`
/// intervals up to `max`.
fn nice_step(max: usize, max_ticks: usize) -> usize {
    let max_ticks = max_ticks.max(1);
    let mut magnitude: usize = 1;
    loop {
        for m in [1usize, 2, 5] {
            let step = m.saturating_mul(magnitude);
            if max.div_ceil(step) <= max_ticks || step == usize::MAX {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// Escapes XML special characters and drops characters not allowed in XML 1.0.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::processing_times::policy::compute;
    use crate::flows::processing_times::policy::tests::{cases, fig_with, labels, only, today};

    // ---- svg_chart --------------------------------------------------------

    fn sample_figure() -> Figure {
        let figs = compute(&cases("I-130", "BOS", 1..=10), today());
        only(&figs).clone()
    }

    /// Minimal well-formedness check: tags balance, attributes are quoted.
    fn assert_balanced(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            let after = &rest[i + 1..];
            let end = after.find('>').expect("unterminated tag");
            let tag = &after[..end];
            assert!(!tag.contains('<'), "stray < in {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().expect("tag name");
                stack.push(name.to_string());
            }
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in {tag}"
            );
            rest = &after[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    #[test]
    fn svg_has_accessibility_attributes() {
        let svg = svg_chart(&sample_figure(), "pt-i130", &labels());
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="pt-i130 pt-i130-desc""#));
        assert!(svg.contains(r#"<title id="pt-i130">Processing times: I-130 at Boston</title>"#));
        assert!(svg.contains(
            r#"<desc id="pt-i130-desc">80% of 10 cases were decided within 8 days.</desc>"#
        ));
        // title and desc come first, as the accessible name/description.
        let first_child = svg.find('>').map(|i| &svg[i + 1..]).unwrap_or("");
        assert!(first_child.starts_with("<title "));
        assert!(svg.contains("Days from receipt to decision"));
        assert!(svg.contains(">Cases</text>"));
        assert!(svg.contains(">80%: 8 days</text>"));
        assert_balanced(&svg);
    }

    #[test]
    fn svg_is_csp_safe_and_sized() {
        let svg = svg_chart(&sample_figure(), "t", &labels());
        let lower = svg.to_lowercase();
        assert!(!lower.contains("style"));
        assert!(!lower.contains("script"));
        assert!(!lower.contains(" on")); // no event handler attributes
        assert!(!lower.contains("href"));
        assert!(svg.contains(r#"viewBox="0 0 640 260""#));
        assert!(svg.contains(r#"width="100%""#));
        assert!(svg.contains(r#"font-family="Source Sans Pro, Helvetica, Arial, sans-serif""#));
        assert!(svg.contains(r##"fill="#005ea2""##));
    }

    #[test]
    fn svg_escapes_all_text() {
        let evil = ChartLabels {
            title: "<script>alert(1)</script> & \"q\"".into(),
            description: "a < b > c & d".into(),
            x_axis: "x<&>".into(),
            y_axis: "y'\u{0}".into(),
            p80_marker: "</text><text>".into(),
        };
        let svg = svg_chart(&sample_figure(), "id\" onload=\"x", &evil);
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(svg.contains("a &lt; b &gt; c &amp; d"));
        assert!(svg.contains("x&lt;&amp;&gt;"));
        assert!(svg.contains("y&apos;</text>"));
        assert!(svg.contains("&lt;/text&gt;&lt;text&gt;"));
        assert!(svg.contains(r#"id="id&quot; onload=&quot;x""#));
        assert!(!svg.contains("<script"));
        assert!(!svg.contains('\u{0}'));
        assert_balanced(&svg);
    }

    #[test]
    fn svg_one_rect_per_non_empty_bucket() {
        let f = sample_figure();
        let svg = svg_chart(&f, "t", &labels());
        let non_empty = f.histogram.iter().filter(|b| b.1 > 0).count();
        assert_eq!(svg.matches("<rect").count(), non_empty);

        // With empty middle buckets.
        let rows = cases("I-130", "BOS", [1, 1, 2, 2, 90, 91]);
        let figs = compute(&rows, today());
        let f = only(&figs);
        let non_empty = f.histogram.iter().filter(|b| b.1 > 0).count();
        assert!(non_empty < f.histogram.len());
        let svg = svg_chart(f, "t", &labels());
        assert_eq!(svg.matches("<rect").count(), non_empty);
    }

    #[test]
    fn svg_marks_p80_and_ticks() {
        let f = sample_figure();
        let svg = svg_chart(&f, "t", &labels());
        assert!(svg.contains(r#"stroke-dasharray="6 3""#));
        // X tick labels at bucket boundaries start at 0.
        assert!(svg.contains(">0</text>"));
        let last = f.histogram.len() as u32 * f.bucket_days;
        assert!(svg.contains(&format!(">{last}</text>")));
        assert_balanced(&svg);
    }

    #[test]
    fn svg_handles_degenerate_figures() {
        let mut f = fig_with(0);
        f.bucket_days = 0;
        let svg = svg_chart(&f, "t", &ChartLabels::default());
        assert_eq!(svg.matches("<rect").count(), 0);
        assert!(!svg.contains("NaN"));
        assert!(!svg.contains("inf"));
        assert_balanced(&svg);

        let rows = cases("I-130", "BOS", [0; 5]);
        let figs = compute(&rows, today());
        let svg = svg_chart(only(&figs), "t", &labels());
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn nice_step_values() {
        assert_eq!(nice_step(0, 5), 1);
        assert_eq!(nice_step(5, 5), 1);
        assert_eq!(nice_step(6, 5), 2);
        assert_eq!(nice_step(11, 5), 5);
        assert_eq!(nice_step(124, 5), 50);
        assert!(nice_step(usize::MAX, 5) > 0);
    }
}
