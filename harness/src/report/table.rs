//! Markdown tables whose cells cannot break the table.
use tabled::builder::Builder;
use tabled::settings::Style;

/// Escapes what would end a cell or a row: `|` and line breaks (kept visible as `<br>`).
pub fn escape_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// A GitHub-flavoured markdown table. Cells are escaped here; pass raw text.
pub fn markdown(header: &[String], rows: &[Vec<String>]) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| escape_cell(h)));
    for row in rows {
        b.push_record(row.iter().map(|c| escape_cell(c)));
    }
    let mut table = b.build();
    table.with(Style::markdown());
    table.to_string()
}

/// Cells that hold several lines: joined with `<br>`, which markdown viewers render.
pub fn lines(items: &[String]) -> String {
    items.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_and_newlines_cannot_break_a_table() {
        let t = markdown(
            &["a".into(), "b".into()],
            &[vec!["x|y".into(), "line1\nline2".into()]],
        );
        let row = t.lines().nth(2).unwrap();
        assert!(row.contains("x\\|y"), "{t}");
        assert!(row.contains("line1<br>line2"), "{t}");
        // Exactly three unescaped separators: start, between, end.
        let unescaped = row.replace("\\|", "").matches('|').count();
        assert_eq!(unescaped, 3, "{t}");
    }
}
