//! NNI exported-architecture files for the classic DARTS search space (NNI >= 1.6, e.g. the
//! `epoch_{e}.json` written by `ArchitectureCheckpoint` through `Trainer.export`).
//!
//! # The format, as NNI writes it
//!
//! `Trainer.export` (`nni/nas/pytorch/trainer.py`) does
//! `json.dump(self.mutator.export(), f, indent=2, sort_keys=True, cls=TorchTensorEncoder)`:
//! one flat object, keys sorted by code point, two-space indent, `", "`/`": "` separators
//! (Python's defaults with `indent`: `","` at line ends, `": "` after keys), every list element
//! on its own line, `[]` for an empty list, and **no trailing newline**.
//!
//! `Mutator.export` (`nni/nas/pytorch/mutator.py`, `_convert_mutable_decision_to_human_readable`)
//! turns the multi-hot decisions of `DartsMutator.sample_final` into:
//! - `{normal|reduce}_n{i}_p{j}` (a `LayerChoice`): `[]` when the edge was pruned (all-false
//!   mask; the empty list is not unwrapped), else the chosen candidate's **name** when the
//!   candidates have distinct non-numeric names (NNI's example `model.py` uses an
//!   `OrderedDict` with `maxpool` ... `dilconv5x5`), else its **integer index** (a plain list
//!   of candidates, as in the lab's model). A one-element list is unwrapped to its element.
//! - `{normal|reduce}_n{i}_switch` (an `InputChoice`, `n_chosen=2`): the names of the chosen
//!   `choose_from` keys, listed in `choose_from` order, i.e. ascending `j` (not in the order of
//!   `topk`'s selection).
//!
//! `import` accepts every form NNI's own loader (`FixedArchitecture._from_human_readable_architecture`
//! in `nni/nas/pytorch/fixed.py`) maps onto this space: an op as index, name, `[index]`,
//! `[name]`, `[]`, or a 7-long boolean multi-hot list (the raw tensor form older NNI versions
//! dumped); a switch as a list of keys, a list of indices, a boolean multi-hot list of the
//! node's length, or a bare key/index (NNI's unwrapped one-element list, rejected later as a
//! node with 1 kept edge). Switch entries may come in any order; `export` writes them ascending.

use super::genotype::{node_inputs, op_index, ops_list, Cell, Edge, Genotype, NODES, OPS};
use serde_json::Value;
use thiserror::Error;

/// How ops are written: the lab model's integer index, or NNI example's op name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpFormat {
    Index,
    Name,
}

/// How an imported file wrote its kept ops. NNI's loader takes an index or a name per key, so
/// one file may mix both; [`OpsWritten::format`] is the format to write it back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpsWritten {
    Index,
    Name,
    Mixed,
}

impl OpsWritten {
    /// Name when any kept op was written by name (a mixed file included), else Index.
    pub fn format(self) -> OpFormat {
        match self {
            OpsWritten::Index => OpFormat::Index,
            OpsWritten::Name | OpsWritten::Mixed => OpFormat::Name,
        }
    }
}

impl From<OpFormat> for OpsWritten {
    fn from(fmt: OpFormat) -> Self {
        match fmt {
            OpFormat::Index => OpsWritten::Index,
            OpFormat::Name => OpsWritten::Name,
        }
    }
}

/// The two cell kinds, in the order they appear in the file.
pub const CELL_KINDS: [&str; 2] = ["normal", "reduce"];

/// Key of edge `input` -> node index `i` (0-based; node n_{i+2}).
pub fn edge_key(kind: &str, i: usize, input: usize) -> String {
    format!("{kind}_n{}_p{input}", i + 2)
}

/// Key of node index `i`'s input switch.
pub fn switch_key(kind: &str, i: usize) -> String {
    format!("{kind}_n{}_switch", i + 2)
}

/// All 36 keys of a file, sorted as NNI writes them.
pub fn all_keys() -> Vec<String> {
    let mut keys = Vec::with_capacity(36);
    for kind in CELL_KINDS {
        for i in 0..NODES {
            for input in 0..node_inputs(i) {
                keys.push(edge_key(kind, i, input));
            }
            keys.push(switch_key(kind, i));
        }
    }
    keys.sort();
    keys
}

/// Why a file is not a valid exported DARTS architecture. Every message starts with the source
/// (file name or description passed to [`import`]) and names the offending key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArchFileError {
    #[error("{origin}: invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{origin}: expected one JSON object of architecture keys, found {found}")]
    NotAnObject { origin: String, found: String },
    #[error("{origin}: missing key \"{key}\"")]
    MissingKey { origin: String, key: String },
    #[error("{origin}: unknown key \"{key}\" (expected {{normal|reduce}}_n{{2..5}}_p{{j}} and _switch keys)")]
    UnknownKey { origin: String, key: String },
    #[error("{origin}: key \"{key}\": unknown op {op} (valid ops: {valid})")]
    UnknownOp {
        origin: String,
        key: String,
        op: String,
        valid: String,
    },
    #[error("{origin}: key \"{key}\": expected {expected}, found {found}")]
    WrongType {
        origin: String,
        key: String,
        expected: String,
        found: String,
    },
    #[error("{origin}: key \"{key}\": {}", kept_edges_text(key, *count))]
    KeptEdgeCount {
        origin: String,
        key: String,
        count: usize,
    },
    #[error("{origin}: key \"{key}\": lists \"{edge}\", but that edge is pruned ([])")]
    SwitchListsPruned {
        origin: String,
        key: String,
        edge: String,
    },
    #[error("{origin}: key \"{key}\": omits \"{edge}\", but that edge has an op")]
    SwitchOmitsEdge {
        origin: String,
        key: String,
        edge: String,
    },
    #[error("{origin}: key \"{key}\": entry {entry} is not an edge of this node")]
    SwitchEntryNotOfNode {
        origin: String,
        key: String,
        entry: String,
    },
    #[error("{origin}: key \"{key}\": entry {entry} is listed twice")]
    DuplicateSwitchEntry {
        origin: String,
        key: String,
        entry: String,
    },
}

/// [`ArchFileError::KeptEdgeCount`]'s text. One entry is most often a bare key written by
/// mistake (NNI's unwrapped one-element list): say what a switch must hold.
fn kept_edges_text(key: &str, count: usize) -> String {
    if count == 1 {
        let node = key.strip_suffix("switch").unwrap_or(key);
        format!(
            "lists one edge where a node keeps two: expected a list of two edge keys, \
             e.g. [\"{node}p0\", \"{node}p1\"] (a bare key or index is a one-element list)"
        )
    } else {
        format!("node keeps {count} edges, expected exactly 2")
    }
}

impl ArchFileError {
    /// The key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ArchFileError::InvalidJson { .. } | ArchFileError::NotAnObject { .. } => None,
            ArchFileError::MissingKey { key, .. }
            | ArchFileError::UnknownKey { key, .. }
            | ArchFileError::UnknownOp { key, .. }
            | ArchFileError::WrongType { key, .. }
            | ArchFileError::KeptEdgeCount { key, .. }
            | ArchFileError::SwitchListsPruned { key, .. }
            | ArchFileError::SwitchOmitsEdge { key, .. }
            | ArchFileError::SwitchEntryNotOfNode { key, .. }
            | ArchFileError::DuplicateSwitchEntry { key, .. } => Some(key),
        }
    }
}

fn cell_of<'a>(g: &'a Genotype, kind: &str) -> &'a Cell {
    if kind == "normal" {
        &g.normal
    } else {
        &g.reduce
    }
}

/// Write `g` byte for byte as NNI's `json.dump(..., indent=2, sort_keys=True)` does (no
/// trailing newline). The genotype should be valid ([`Genotype::validate`]); an out-of-range
/// op is written as its index even in [`OpFormat::Name`].
pub fn export(g: &Genotype, fmt: OpFormat) -> String {
    let mut entries: Vec<(String, String)> = Vec::with_capacity(36);
    for kind in CELL_KINDS {
        let cell = cell_of(g, kind);
        for i in 0..NODES {
            let edges: Option<&[Edge; 2]> = cell.nodes.get(i);
            let mut kept: Vec<usize> = Vec::new();
            for input in 0..node_inputs(i) {
                let op = edges.and_then(|es| es.iter().find(|e| e.input == input).map(|e| e.op));
                let value = match (op, fmt) {
                    (None, _) => "[]".to_string(),
                    (Some(op), OpFormat::Name) if op < OPS.len() => format!("\"{}\"", OPS[op]),
                    (Some(op), _) => op.to_string(),
                };
                if op.is_some() {
                    kept.push(input);
                }
                entries.push((edge_key(kind, i, input), value));
            }
            let value = if kept.is_empty() {
                "[]".to_string()
            } else {
                let items: Vec<String> = kept
                    .iter()
                    .map(|&j| format!("    \"{}\"", edge_key(kind, i, j)))
                    .collect();
                format!("[\n{}\n  ]", items.join(",\n"))
            };
            entries.push((switch_key(kind, i), value));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let body: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("  \"{k}\": {v}"))
        .collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}

fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    let mut text = v.to_string();
    if text.len() > 60 {
        // Cut at a character boundary: a multi-byte character may straddle byte 57.
        let cut = (0..=57)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("...");
    }
    format!("{kind} {text}")
}

struct Ctx<'a> {
    origin: &'a str,
}

impl Ctx<'_> {
    fn wrong(&self, key: &str, expected: &str, v: &Value) -> ArchFileError {
        ArchFileError::WrongType {
            origin: self.origin.to_string(),
            key: key.to_string(),
            expected: expected.to_string(),
            found: describe(v),
        }
    }

    fn unknown_op(&self, key: &str, op: String) -> ArchFileError {
        ArchFileError::UnknownOp {
            origin: self.origin.to_string(),
            key: key.to_string(),
            op,
            valid: ops_list(),
        }
    }

    fn switch_err(&self, key: &str, entry: String, duplicate: bool) -> ArchFileError {
        let (origin, key) = (self.origin.to_string(), key.to_string());
        if duplicate {
            ArchFileError::DuplicateSwitchEntry { origin, key, entry }
        } else {
            ArchFileError::SwitchEntryNotOfNode { origin, key, entry }
        }
    }
}

/// An op value: `None` when pruned; else the op and whether it was written as a name.
type ParsedOp = Option<(usize, bool)>;

const OP_EXPECTED: &str =
    "an op index, an op name, [] (pruned), a one-element list, or a 7-long boolean multi-hot list";

fn parse_op(ctx: &Ctx, key: &str, v: &Value, nested: bool) -> Result<ParsedOp, ArchFileError> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) if i >= 0 && (i as usize) < OPS.len() => Ok(Some((i as usize, false))),
            Some(i) => Err(ctx.unknown_op(key, format!("index {i}"))),
            None => match n.as_u64() {
                Some(u) => Err(ctx.unknown_op(key, format!("index {u}"))),
                None => Err(ctx.wrong(key, OP_EXPECTED, v)),
            },
        },
        Value::String(s) => match op_index(s) {
            Some(i) => Ok(Some((i, true))),
            None => Err(ctx.unknown_op(key, format!("\"{s}\""))),
        },
        Value::Array(items) if !nested => {
            if items.is_empty() {
                return Ok(None);
            }
            if items.iter().all(Value::is_boolean) {
                if items.len() != OPS.len() {
                    return Err(ctx.wrong(key, OP_EXPECTED, v));
                }
                let chosen: Vec<usize> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.as_bool() == Some(true))
                    .map(|(i, _)| i)
                    .collect();
                return match chosen.as_slice() {
                    [] => Ok(None),
                    [i] => Ok(Some((*i, false))),
                    _ => Err(ctx.wrong(key, "at most one op per edge", v)),
                };
            }
            if items.len() == 1 {
                return parse_op(ctx, key, &items[0], true);
            }
            Err(ctx.wrong(key, "at most one op per edge", v))
        }
        _ => Err(ctx.wrong(key, OP_EXPECTED, v)),
    }
}

const SWITCH_EXPECTED: &str =
    "a list of this node's edge keys (or edge indices, or a boolean multi-hot list)";

/// The inputs listed by a switch value, in file order.
fn parse_switch(
    ctx: &Ctx,
    kind: &str,
    i: usize,
    key: &str,
    v: &Value,
) -> Result<Vec<usize>, ArchFileError> {
    let n = node_inputs(i);
    let single;
    let items: &[Value] = match v {
        Value::Array(items) => items,
        Value::String(_) | Value::Number(_) => {
            single = [v.clone()];
            &single
        }
        _ => return Err(ctx.wrong(key, SWITCH_EXPECTED, v)),
    };
    if !items.is_empty() && items.iter().all(Value::is_boolean) {
        if items.len() != n {
            return Err(ctx.wrong(key, &format!("a boolean multi-hot list of length {n}"), v));
        }
        return Ok(items
            .iter()
            .enumerate()
            .filter(|(_, b)| b.as_bool() == Some(true))
            .map(|(j, _)| j)
            .collect());
    }
    let mut out: Vec<usize> = Vec::with_capacity(items.len());
    for item in items {
        let j = match item {
            Value::String(s) => (0..n)
                .find(|&j| edge_key(kind, i, j) == *s)
                .ok_or_else(|| ctx.switch_err(key, format!("\"{s}\""), false))?,
            Value::Number(num) => match num.as_u64() {
                Some(u) if (u as usize) < n => u as usize,
                _ => return Err(ctx.switch_err(key, num.to_string(), false)),
            },
            other => return Err(ctx.wrong(key, SWITCH_EXPECTED, other)),
        };
        if out.contains(&j) {
            return Err(ctx.switch_err(key, item.to_string(), true));
        }
        out.push(j);
    }
    Ok(out)
}

/// Parse an exported architecture. `source` names the file in error messages. Returns the
/// genotype and how its kept ops were written: by name, by index (multi-hot lists count as
/// indices), or both.
pub fn import(text: &str, source: &str) -> Result<(Genotype, OpsWritten), ArchFileError> {
    let ctx = Ctx { origin: source };
    let value: Value = crate::strict_json::parse(text).map_err(|e| ArchFileError::InvalidJson {
        origin: source.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let obj = match &value {
        Value::Object(m) => m,
        other => {
            return Err(ArchFileError::NotAnObject {
                origin: source.to_string(),
                found: describe(other),
            })
        }
    };
    let expected = all_keys();
    let mut present: Vec<&String> = obj.keys().collect();
    present.sort();
    if let Some(k) = present.iter().find(|k| !expected.contains(k)) {
        return Err(ArchFileError::UnknownKey {
            origin: source.to_string(),
            key: k.to_string(),
        });
    }
    if let Some(k) = expected.iter().find(|k| !obj.contains_key(*k)) {
        return Err(ArchFileError::MissingKey {
            origin: source.to_string(),
            key: k.clone(),
        });
    }

    let (mut any_name, mut any_index) = (false, false);
    let mut cells: Vec<Cell> = Vec::with_capacity(2);
    for kind in CELL_KINDS {
        let mut nodes: Vec<[Edge; 2]> = Vec::with_capacity(NODES);
        for i in 0..NODES {
            let ops: Vec<ParsedOp> = (0..node_inputs(i))
                .map(|j| {
                    let key = edge_key(kind, i, j);
                    parse_op(&ctx, &key, &obj[&key], false)
                })
                .collect::<Result<_, _>>()?;
            let skey = switch_key(kind, i);
            let listed = parse_switch(&ctx, kind, i, &skey, &obj[&skey])?;
            for &j in &listed {
                if ops[j].is_none() {
                    return Err(ArchFileError::SwitchListsPruned {
                        origin: source.to_string(),
                        key: skey,
                        edge: edge_key(kind, i, j),
                    });
                }
            }
            // Before naming an omitted edge: a one-entry switch (a bare key) is told it needs two.
            if listed.len() == 1 {
                return Err(ArchFileError::KeptEdgeCount {
                    origin: source.to_string(),
                    key: skey,
                    count: 1,
                });
            }
            if let Some(j) = (0..ops.len()).find(|j| ops[*j].is_some() && !listed.contains(j)) {
                return Err(ArchFileError::SwitchOmitsEdge {
                    origin: source.to_string(),
                    key: skey,
                    edge: edge_key(kind, i, j),
                });
            }
            if listed.len() != 2 {
                return Err(ArchFileError::KeptEdgeCount {
                    origin: source.to_string(),
                    key: skey,
                    count: listed.len(),
                });
            }
            let mut kept: Vec<Edge> = Vec::with_capacity(2);
            for (j, op) in ops.iter().enumerate() {
                if let Some((op, by_name)) = op {
                    any_name |= *by_name;
                    any_index |= !*by_name;
                    kept.push(Edge::new(j, *op));
                }
            }
            nodes.push([kept[0], kept[1]]);
        }
        cells.push(Cell { nodes });
    }
    let reduce = cells.pop().expect("two cells");
    let normal = cells.pop().expect("two cells");
    let written = match (any_name, any_index) {
        (true, true) => OpsWritten::Mixed,
        (true, false) => OpsWritten::Name,
        (false, _) => OpsWritten::Index,
    };
    Ok((Genotype { normal, reduce }, written))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// DARTS_V2 as NNI's example model (`OrderedDict` op names) would export it: the exact
    /// bytes of `json.dump(arc, f, indent=2, sort_keys=True)`.
    const NNI_NAME_FIXTURE: &str = r#"{
  "normal_n2_p0": "sepconv3x3",
  "normal_n2_p1": "sepconv3x3",
  "normal_n2_switch": [
    "normal_n2_p0",
    "normal_n2_p1"
  ],
  "normal_n3_p0": "sepconv3x3",
  "normal_n3_p1": "sepconv3x3",
  "normal_n3_p2": [],
  "normal_n3_switch": [
    "normal_n3_p0",
    "normal_n3_p1"
  ],
  "normal_n4_p0": "skipconnect",
  "normal_n4_p1": "sepconv3x3",
  "normal_n4_p2": [],
  "normal_n4_p3": [],
  "normal_n4_switch": [
    "normal_n4_p0",
    "normal_n4_p1"
  ],
  "normal_n5_p0": "skipconnect",
  "normal_n5_p1": [],
  "normal_n5_p2": "dilconv3x3",
  "normal_n5_p3": [],
  "normal_n5_p4": [],
  "normal_n5_switch": [
    "normal_n5_p0",
    "normal_n5_p2"
  ],
  "reduce_n2_p0": "maxpool",
  "reduce_n2_p1": "maxpool",
  "reduce_n2_switch": [
    "reduce_n2_p0",
    "reduce_n2_p1"
  ],
  "reduce_n3_p0": [],
  "reduce_n3_p1": "maxpool",
  "reduce_n3_p2": "skipconnect",
  "reduce_n3_switch": [
    "reduce_n3_p1",
    "reduce_n3_p2"
  ],
  "reduce_n4_p0": "maxpool",
  "reduce_n4_p1": [],
  "reduce_n4_p2": "skipconnect",
  "reduce_n4_p3": [],
  "reduce_n4_switch": [
    "reduce_n4_p0",
    "reduce_n4_p2"
  ],
  "reduce_n5_p0": [],
  "reduce_n5_p1": "maxpool",
  "reduce_n5_p2": "skipconnect",
  "reduce_n5_p3": [],
  "reduce_n5_p4": [],
  "reduce_n5_switch": [
    "reduce_n5_p1",
    "reduce_n5_p2"
  ]
}"#;

    fn index_fixture() -> String {
        // The lab model's (integer index) form of the same file.
        let mut s = NNI_NAME_FIXTURE.to_string();
        for (i, name) in OPS.iter().enumerate() {
            s = s.replace(&format!("\"{name}\""), &i.to_string());
        }
        s
    }

    fn err_of(text: &str) -> ArchFileError {
        import(text, "epoch_49.json").unwrap_err()
    }

    /// Replace one `"key": value` line's value in the index fixture.
    fn with_value(key: &str, value: &str) -> String {
        let v: Value = serde_json::from_str(&index_fixture()).unwrap();
        let mut m = v.as_object().unwrap().clone();
        m.insert(key.to_string(), serde_json::from_str(value).unwrap());
        serde_json::to_string_pretty(&Value::Object(m)).unwrap()
    }

    fn assert_names(err: &ArchFileError, key: &str) {
        let msg = err.to_string();
        assert!(msg.starts_with("epoch_49.json: "), "{msg}");
        assert!(msg.contains(&format!("\"{key}\"")), "{msg}");
    }

    #[test]
    fn keys_are_36_and_sorted() {
        let keys = all_keys();
        assert_eq!(keys.len(), 36);
        assert_eq!(keys[0], "normal_n2_p0");
        assert_eq!(keys[2], "normal_n2_switch");
        assert_eq!(keys[35], "reduce_n5_switch");
    }

    #[test]
    fn fixture_loads_as_darts_v2() {
        let (g, written) = import(NNI_NAME_FIXTURE, "fixture").unwrap();
        assert_eq!(g, Genotype::darts_v2());
        assert_eq!(written, OpsWritten::Name);
        let (g, written) = import(&index_fixture(), "fixture").unwrap();
        assert_eq!(g, Genotype::darts_v2());
        assert_eq!(written, OpsWritten::Index);
    }

    #[test]
    fn export_matches_nni_bytes() {
        let g = Genotype::darts_v2();
        assert_eq!(export(&g, OpFormat::Name), NNI_NAME_FIXTURE);
        assert_eq!(export(&g, OpFormat::Index), index_fixture());
        assert!(!export(&g, OpFormat::Index).ends_with('\n'));
        assert!(index_fixture().contains("\"normal_n5_p2\": 5,\n"));
    }

    #[test]
    fn export_agrees_with_serde_pretty_printer() {
        // serde_json's pretty printer uses the same layout as Python's indent=2 for this data.
        let text = export(&Genotype::darts_v2(), OpFormat::Index);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string_pretty(&v).unwrap(), text);
    }

    #[test]
    fn roundtrip_both_formats() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..50 {
            let g = Genotype::random(&mut rng);
            for fmt in [OpFormat::Index, OpFormat::Name] {
                let text = export(&g, fmt);
                let (back, written) = import(&text, "rt").unwrap();
                assert_eq!(back, g);
                assert_eq!(written, OpsWritten::from(fmt));
                assert_eq!(export(&back, written.format()), text);
            }
        }
    }

    #[test]
    fn accepts_nni_variants() {
        // A trailing newline and compact layout do not matter.
        let compact =
            serde_json::to_string(&serde_json::from_str::<Value>(NNI_NAME_FIXTURE).unwrap())
                .unwrap()
                + "\n";
        assert_eq!(import(&compact, "x").unwrap().0, Genotype::darts_v2());
        // one-element lists, multi-hot op lists, index and multi-hot switches, any switch order
        let variants = [
            ("normal_n2_p0", "[3]"),
            ("normal_n2_p1", "[\"sepconv3x3\"]"),
            (
                "normal_n3_p2",
                "[false, false, false, false, false, false, false]",
            ),
            (
                "normal_n5_p2",
                "[false, false, false, false, false, true, false]",
            ),
            ("normal_n4_switch", "[0, 1]"),
            ("normal_n5_switch", "[true, false, true, false, false]"),
            ("reduce_n3_switch", "[\"reduce_n3_p2\", \"reduce_n3_p1\"]"),
        ];
        let v: Value = serde_json::from_str(&index_fixture()).unwrap();
        let mut m = v.as_object().unwrap().clone();
        for (k, val) in variants {
            m.insert(k.to_string(), serde_json::from_str(val).unwrap());
        }
        let text = serde_json::to_string(&Value::Object(m)).unwrap();
        let (g, written) = import(&text, "x").unwrap();
        assert_eq!(g, Genotype::darts_v2());
        // names in one key, indices in the others
        assert_eq!(written, OpsWritten::Mixed);
        assert_eq!(written.format(), OpFormat::Name);
        assert_eq!(export(&g, OpFormat::Index), index_fixture());
    }

    #[test]
    fn ops_written_counts_only_kept_ops_and_multi_hot_as_index() {
        // Names everywhere but one multi-hot list: mixed.
        let mut v: Value = serde_json::from_str(NNI_NAME_FIXTURE).unwrap();
        v["normal_n2_p0"] = serde_json::json!([false, false, false, true, false, false, false]);
        assert_eq!(import(&v.to_string(), "x").unwrap().1, OpsWritten::Mixed);
        // Only multi-hot lists and pruned edges besides indices: index.
        let mut v: Value = serde_json::from_str(&index_fixture()).unwrap();
        v["normal_n2_p0"] = serde_json::json!([false, false, false, true, false, false, false]);
        assert_eq!(import(&v.to_string(), "x").unwrap().1, OpsWritten::Index);
    }

    #[test]
    fn invalid_json_has_line_and_column() {
        let text = index_fixture().replacen("\"normal_n2_p1\": 3,", "\"normal_n2_p1\": 3,,", 1);
        let err = err_of(&text);
        match &err {
            ArchFileError::InvalidJson { line, column, .. } => {
                assert_eq!(*line, 3);
                assert!(*column > 0);
            }
            other => panic!("{other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with("epoch_49.json: invalid JSON at line 3, column "));
    }

    #[test]
    fn long_non_ascii_value_is_shortened_at_a_char_boundary() {
        // Found by fuzzing (fuzz/fuzz_targets/arch_file.rs): byte 57 of the quoted value falls
        // inside an 'é', and cutting the message there used to panic.
        let text = format!("[\"{}\"]", "é".repeat(40));
        let err = err_of(&text);
        assert!(matches!(err, ArchFileError::NotAnObject { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with("epoch_49.json: "), "{msg}");
        assert!(
            msg.contains(&format!("a list [\"{}...", "é".repeat(27))),
            "{msg}"
        );

        let err = err_of(&with_value(
            "normal_n3_p1",
            &format!("{{\"{}\": 1}}", "ü".repeat(40)),
        ));
        assert!(matches!(err, ArchFileError::WrongType { .. }), "{err:?}");
        assert_names(&err, "normal_n3_p1");
        assert!(err.to_string().contains("..."), "{err}");
    }

    #[test]
    fn not_an_object() {
        let err = err_of("[1, 2]");
        assert!(matches!(err, ArchFileError::NotAnObject { .. }));
        assert!(err.to_string().contains("epoch_49.json"));
        assert!(err.to_string().contains("a list [1,2]"), "{err}");
    }

    #[test]
    fn missing_key() {
        let v: Value = serde_json::from_str(&index_fixture()).unwrap();
        let mut m = v.as_object().unwrap().clone();
        m.shift_remove("reduce_n4_p3");
        let err = err_of(&serde_json::to_string(&Value::Object(m)).unwrap());
        assert!(matches!(err, ArchFileError::MissingKey { .. }));
        assert_names(&err, "reduce_n4_p3");
        assert_eq!(err.key(), Some("reduce_n4_p3"));
    }

    #[test]
    fn unknown_key() {
        for extra in ["normal_n6_p0", "normal_n2_p2", "lr"] {
            let err = err_of(&with_value(extra, "[]"));
            assert!(matches!(err, ArchFileError::UnknownKey { .. }), "{err:?}");
            assert_names(&err, extra);
        }
    }

    #[test]
    fn unknown_op_lists_valid_ops() {
        for (val, shown) in [
            ("\"sep_conv_3x3\"", "\"sep_conv_3x3\""),
            ("7", "index 7"),
            ("-1", "index -1"),
            ("[\"none\"]", "\"none\""),
        ] {
            let err = err_of(&with_value("normal_n3_p1", val));
            assert!(matches!(err, ArchFileError::UnknownOp { .. }), "{err:?}");
            assert_names(&err, "normal_n3_p1");
            let msg = err.to_string();
            assert!(msg.contains(shown), "{msg}");
            assert!(
                msg.contains("0 maxpool") && msg.contains("6 dilconv5x5"),
                "{msg}"
            );
        }
    }

    #[test]
    fn wrong_value_types() {
        for (key, val) in [
            ("normal_n2_p0", "false"),
            ("normal_n2_p0", "null"),
            ("normal_n2_p0", "3.5"),
            ("normal_n2_p0", "{\"op\": 3}"),
            ("normal_n2_p0", "[3, 4]"),
            ("normal_n2_p0", "[[3]]"),
            ("normal_n2_p0", "[true, false]"),
            (
                "normal_n2_p0",
                "[true, true, false, false, false, false, false]",
            ),
            ("normal_n2_switch", "true"),
            ("normal_n2_switch", "[null]"),
            ("normal_n3_switch", "[true, true]"),
        ] {
            let err = err_of(&with_value(key, val));
            assert!(
                matches!(err, ArchFileError::WrongType { .. }),
                "{val}: {err:?}"
            );
            assert_names(&err, key);
        }
    }

    #[test]
    fn node_with_other_than_two_kept_edges() {
        // three kept edges, all listed
        let mut v: Value = serde_json::from_str(&index_fixture()).unwrap();
        v["normal_n3_p2"] = Value::from(4);
        v["normal_n3_switch"] = serde_json::json!(["normal_n3_p0", "normal_n3_p1", "normal_n3_p2"]);
        let err = err_of(&v.to_string());
        assert_eq!(
            err,
            ArchFileError::KeptEdgeCount {
                origin: "epoch_49.json".into(),
                key: "normal_n3_switch".into(),
                count: 3
            }
        );
        assert_names(&err, "normal_n3_switch");
        // one kept edge, as a bare (unwrapped) key
        let mut v: Value = serde_json::from_str(&index_fixture()).unwrap();
        v["reduce_n2_p1"] = serde_json::json!([]);
        v["reduce_n2_switch"] = Value::from("reduce_n2_p0");
        let err = err_of(&v.to_string());
        assert!(
            matches!(err, ArchFileError::KeptEdgeCount { count: 1, .. }),
            "{err:?}"
        );
        assert_names(&err, "reduce_n2_switch");
        // a bare key where the node's other edge has an op: the count, not the omitted edge
        let err = err_of(&with_value("normal_n2_switch", "\"normal_n2_p0\""));
        assert_eq!(
            err.to_string(),
            "epoch_49.json: key \"normal_n2_switch\": lists one edge where a node keeps two: \
             expected a list of two edge keys, e.g. [\"normal_n2_p0\", \"normal_n2_p1\"] \
             (a bare key or index is a one-element list)"
        );
        // the same for a bare index and a one-element list
        for val in ["1", "[\"normal_n2_p1\"]"] {
            let err = err_of(&with_value("normal_n2_switch", val));
            assert!(
                matches!(err, ArchFileError::KeptEdgeCount { count: 1, .. }),
                "{val}: {err:?}"
            );
        }
        // nothing kept
        let mut v: Value = serde_json::from_str(&index_fixture()).unwrap();
        v["reduce_n2_p0"] = serde_json::json!([]);
        v["reduce_n2_p1"] = serde_json::json!([]);
        v["reduce_n2_switch"] = serde_json::json!([]);
        let err = err_of(&v.to_string());
        assert!(
            matches!(err, ArchFileError::KeptEdgeCount { count: 0, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn switch_lists_a_pruned_edge() {
        let err = err_of(&with_value(
            "normal_n5_switch",
            "[\"normal_n5_p0\", \"normal_n5_p3\"]",
        ));
        assert!(
            matches!(err, ArchFileError::SwitchListsPruned { .. }),
            "{err:?}"
        );
        assert_names(&err, "normal_n5_switch");
        assert!(err.to_string().contains("\"normal_n5_p3\""));
    }

    #[test]
    fn switch_omits_an_edge_with_an_op() {
        let err = err_of(&with_value("normal_n5_p4", "2"));
        assert!(
            matches!(err, ArchFileError::SwitchOmitsEdge { .. }),
            "{err:?}"
        );
        assert_names(&err, "normal_n5_switch");
        assert!(err.to_string().contains("\"normal_n5_p4\""));
    }

    #[test]
    fn switch_entry_not_of_this_node() {
        for (val, shown) in [
            ("[\"normal_n4_p0\", \"normal_n5_p2\"]", "\"normal_n4_p0\""),
            ("[\"reduce_n5_p0\", \"normal_n5_p2\"]", "\"reduce_n5_p0\""),
            ("[\"normal_n5_p0\", \"normal_n5_p5\"]", "\"normal_n5_p5\""),
            ("[0, 5]", "5"),
        ] {
            let err = err_of(&with_value("normal_n5_switch", val));
            assert!(
                matches!(err, ArchFileError::SwitchEntryNotOfNode { .. }),
                "{err:?}"
            );
            assert_names(&err, "normal_n5_switch");
            assert!(err.to_string().contains(shown), "{err}");
        }
    }

    #[test]
    fn switch_entry_listed_twice() {
        let err = err_of(&with_value(
            "normal_n2_switch",
            "[\"normal_n2_p0\", \"normal_n2_p0\"]",
        ));
        assert!(
            matches!(err, ArchFileError::DuplicateSwitchEntry { .. }),
            "{err:?}"
        );
        assert_names(&err, "normal_n2_switch");
    }
}
