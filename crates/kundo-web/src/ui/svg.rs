//! Server-rendered SVG bar charts: one bar per label, the number in a `<title>` (shown on
//! hover) and as text for screen readers; the page shows the same numbers in a table.

/// Escapes text for XML content and attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart of `(label, value)`; negative values are drawn as zero-height bars.
pub fn bar_chart(title: &str, data: &[(String, i64)], width: u32, height: u32) -> String {
    let pad = 24.0;
    let w = f64::from(width);
    let h = f64::from(height);
    let max = data.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let n = data.len().max(1) as f64;
    let slot = (w - 2.0 * pad) / n;
    let bar = (slot * 0.7).max(1.0);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{}"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    out.push_str(&format!(
        r#"<line x1="{pad}" y1="{y}" x2="{x2}" y2="{y}" class="axis"/>"#,
        y = h - pad,
        x2 = w - pad
    ));
    for (i, (label, value)) in data.iter().enumerate() {
        let v = (*value).max(0) as f64;
        let bh = (h - 2.0 * pad) * v / max;
        let x = pad + slot * i as f64 + (slot - bar) / 2.0;
        let y = h - pad - bh;
        out.push_str(&format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{bh:.1}" class="bar"><title>{}: {value}</title></rect>"#,
            esc(label)
        ));
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" class="label">{}</text>"#,
            x + bar / 2.0,
            h - pad / 3.0,
            esc(label)
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_carry_their_numbers() {
        let data = vec![
            ("2026-01".to_string(), 10),
            ("2026-02".to_string(), 20),
            ("<x>".to_string(), 0),
        ];
        let svg = bar_chart("New & old", &data, 300, 124);
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<title>2026-02: 20</title>"));
        assert!(
            svg.contains(r#"height="76.0""#),
            "the largest bar fills the plot: {svg}"
        );
        assert!(
            svg.contains(r#"height="38.0""#),
            "half the value, half the height"
        );
        assert!(svg.contains("&lt;x&gt;"));
        assert!(svg.contains("New &amp; old"));
        assert!(bar_chart("empty", &[], 100, 50).contains("</svg>"));
    }
}
