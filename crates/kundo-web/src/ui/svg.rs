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

/// A grouped bar chart: one group of bars per label, one bar per series (`(name, values)`, the
/// values in label order), each with `series name, label: value` in its `<title>`; a legend
/// names the series. Negative values are drawn as zero-height bars.
pub fn grouped_bar_chart(
    title: &str,
    labels: &[String],
    series: &[(&str, Vec<i64>)],
    width: u32,
    height: u32,
) -> String {
    let pad = 24.0;
    let w = f64::from(width);
    let h = f64::from(height);
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = labels.len().max(1) as f64;
    let k = series.len().max(1) as f64;
    let slot = (w - 2.0 * pad) / n;
    let bar = (slot * 0.8 / k).max(1.0);
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
    for (j, (name, _)) in series.iter().enumerate() {
        out.push_str(&format!(
            r#"<text x="{:.1}" y="12" class="legend s{j}">■ {}</text>"#,
            pad + 110.0 * j as f64,
            esc(name)
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        let x0 = pad + slot * i as f64 + slot * 0.1;
        for (j, (name, values)) in series.iter().enumerate() {
            let value = values.get(i).copied().unwrap_or(0);
            let bh = (h - 2.0 * pad) * value.max(0) as f64 / max;
            let x = x0 + bar * j as f64;
            let y = h - pad - bh;
            out.push_str(&format!(
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{bh:.1}" class="bar s{j}"><title>{}, {}: {value}</title></rect>"#,
                esc(name),
                esc(label)
            ));
        }
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" class="label">{}</text>"#,
            x0 + slot * 0.4,
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

    #[test]
    fn grouped_bars_share_one_scale_and_name_their_series() {
        let labels = vec!["01-02".to_string(), "01-03".to_string()];
        let series = vec![("Target", vec![4, 8]), ("Control <c>", vec![2, 0])];
        let svg = grouped_bar_chart("Käufe", &labels, &series, 300, 124);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect").count(),
            4,
            "one bar per label and series"
        );
        assert!(svg.contains("<title>Target, 01-03: 8</title>"));
        assert!(svg.contains("<title>Control &lt;c&gt;, 01-02: 2</title>"));
        assert!(
            svg.contains(r#"height="76.0""#),
            "the largest fills the plot"
        );
        assert!(
            svg.contains(r#"height="38.0""#),
            "half the value, half the height"
        );
        assert!(
            svg.contains(r#"class="bar s1""#),
            "the second series has its own class"
        );
        assert!(grouped_bar_chart("empty", &[], &[], 100, 50).contains("</svg>"));
    }
}
