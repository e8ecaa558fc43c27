//! Human-readable renderings of a cell: plain text and a Mermaid flowchart.

use super::genotype::{input_name, Cell};

/// One line per node, e.g. `n2 = sepconv3x3(s0) + sepconv3x3(s1)`, then
/// `out = concat(n2, n3, n4, n5)`. `s0`/`s1` are the outputs of cells k-2 and k-1. When `kind`
/// is not empty, a first line `{kind} cell` precedes the node lines, which are then indented
/// by two spaces. Ends with a newline.
pub fn cell_text(cell: &Cell, kind: &str) -> String {
    let indent = if kind.is_empty() { "" } else { "  " };
    let mut out = String::new();
    if !kind.is_empty() {
        out.push_str(&format!("{kind} cell\n"));
    }
    let mut names = Vec::with_capacity(cell.nodes.len());
    for (i, edges) in cell.nodes.iter().enumerate() {
        let node = input_name(i + 2);
        let terms: Vec<String> = edges
            .iter()
            .map(|e| format!("{}({})", e.op_name(), input_name(e.input)))
            .collect();
        out.push_str(&format!("{indent}{node} = {}\n", terms.join(" + ")));
        names.push(node);
    }
    out.push_str(&format!("{indent}out = concat({})\n", names.join(", ")));
    out
}

/// Mermaid id of a cell input / node: `c_km2`, `c_km1`, `n2`, ...
fn mermaid_id(input: usize) -> String {
    match input {
        0 => "c_km2".to_string(),
        1 => "c_km1".to_string(),
        j => format!("n{j}"),
    }
}

/// Escape text for a double-quoted Mermaid label (Mermaid's `#quot;` entity codes).
fn mermaid_label(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => "#quot;".to_string(),
            '#' => "#35;".to_string(),
            '<' => "#lt;".to_string(),
            '>' => "#gt;".to_string(),
            '\n' | '\r' => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// A fenced ```` ```mermaid ```` `flowchart LR` block: inputs `c_{k-2}`, `c_{k-1}`, nodes
/// n2..n5 and the output `c_{k}` inside a subgraph titled `title`; one edge per kept edge,
/// labelled with its op name (`c_km2 -->|sepconv3x3| n2`), and an unlabelled edge from every
/// intermediate node to the output (the concat). Ends with a newline.
pub fn cell_mermaid(cell: &Cell, title: &str) -> String {
    let mut out = String::from("```mermaid\nflowchart LR\n");
    out.push_str(&format!("  subgraph cell[\"{}\"]\n", mermaid_label(title)));
    out.push_str("    c_km2([\"c_{k-2}\"])\n");
    out.push_str("    c_km1([\"c_{k-1}\"])\n");
    for i in 0..cell.nodes.len() {
        let id = mermaid_id(i + 2);
        out.push_str(&format!("    {id}[\"{id}\"]\n"));
    }
    out.push_str("    c_k([\"c_{k}\"])\n");
    for (i, edges) in cell.nodes.iter().enumerate() {
        for e in edges {
            out.push_str(&format!(
                "    {} -->|{}| {}\n",
                mermaid_id(e.input),
                e.op_name(),
                mermaid_id(i + 2)
            ));
        }
    }
    for i in 0..cell.nodes.len() {
        out.push_str(&format!("    {} --> c_k\n", mermaid_id(i + 2)));
    }
    out.push_str("  end\n```\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::genotype::{Genotype, OPS};

    #[test]
    fn text_of_darts_v2() {
        let g = Genotype::darts_v2();
        let t = cell_text(&g.normal, "normal");
        assert_eq!(
            t,
            "normal cell\n\
             \x20 n2 = sepconv3x3(s0) + sepconv3x3(s1)\n\
             \x20 n3 = sepconv3x3(s0) + sepconv3x3(s1)\n\
             \x20 n4 = skipconnect(s0) + sepconv3x3(s1)\n\
             \x20 n5 = skipconnect(s0) + dilconv3x3(n2)\n\
             \x20 out = concat(n2, n3, n4, n5)\n"
        );
        let t = cell_text(&g.reduce, "");
        assert!(t.starts_with("n2 = maxpool(s0) + maxpool(s1)\n"), "{t}");
        assert!(t.contains("n3 = maxpool(s1) + skipconnect(n2)\n"), "{t}");
    }

    #[test]
    fn mermaid_contains_every_edge() {
        let g = Genotype::darts_v2();
        for (cell, title) in [(&g.normal, "normal \"DARTS_V2\""), (&g.reduce, "reduce")] {
            let m = cell_mermaid(cell, title);
            assert!(m.starts_with("```mermaid\nflowchart LR\n"));
            assert!(m.ends_with("end\n```\n"));
            for (i, edges) in cell.nodes.iter().enumerate() {
                for e in edges {
                    let line = format!("{} -->|{}| n{}\n", mermaid_id(e.input), OPS[e.op], i + 2);
                    assert!(m.contains(&line), "missing {line} in\n{m}");
                }
                assert!(m.contains(&format!("n{} --> c_k\n", i + 2)));
            }
            assert_eq!(m.matches("-->|").count(), 8);
            // no raw quote inside the title label
            assert!(!m.contains("\"DARTS_V2\""), "{m}");
        }
        let m = cell_mermaid(&g.normal, "n");
        assert!(m.contains("c_km2 -->|skipconnect| n5\n"));
        assert!(m.contains("n2 -->|dilconv3x3| n5\n"));
    }

    #[test]
    fn mermaid_ids_are_plain() {
        let m = cell_mermaid(&Genotype::darts_v2().reduce, "r");
        for line in m.lines().filter(|l| l.contains("-->")) {
            let toks: Vec<&str> = line.split_whitespace().collect();
            let (from, to) = (toks[0], toks[toks.len() - 1]);
            for id in [from, to] {
                assert!(
                    id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{id}"
                );
            }
        }
    }
}
