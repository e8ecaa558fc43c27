//! From DARTS search logits to a discrete cell.
//!
//! Input: one row per candidate edge, 14 rows in the order n2 p0,p1; n3 p0..p2; n4 p0..p3;
//! n5 p0..p4 (see [`edge_index`]), each with 8 logits: the 7 ops in [`OPS`] order, then the
//! zero op at [`ZERO_OP`] (NNI's `DartsMutator` appends the zero logit last, too).
//!
//! Per edge the op is the argmax over the 7 real ops (the zero op is never chosen) and the edge
//! strength is that op's softmax weight; per node the 2 strongest edges are kept and written
//! ascending by input.
//!
//! # Which softmax
//!
//! [`derive_cell`] follows lab8-reference §4: softmax over the **7 real ops** only
//! ([`Strength::RealOps`]). NNI's `DartsMutator.sample_final`
//! (`nni/nas/pytorch/darts/mutator.py`: `torch.max(F.softmax(self.choices[key], dim=-1)[:-1], 0)`)
//! and the DARTS paper code (`model_search.py` `genotype()`: softmax over all primitives
//! including `none`, ranking by the best non-`none` weight) take the softmax over **all 8**
//! logits and then drop the zero op ([`Strength::WithZero`], [`derive_cell_nni`]). The chosen
//! op of an edge is the same either way; the edge ranking can differ, because an edge's
//! zero-op logit shrinks its strength only in the 8-way softmax (see the test
//! `real_ops_and_nni_strength_can_disagree`).
//!
//! # Ties (deterministic)
//!
//! An op tie goes to the lowest op index (the first maximum); an edge-strength tie goes to the
//! lower input index (stable sort). PyTorch's `torch.max`/`torch.topk` leave ties unspecified.
//! Logits must be finite (NaN or ±inf is an error in [`try_derive_cell`]).

use super::genotype::{edge_index, node_inputs, Cell, Edge, Genotype, NODES, NUM_EDGES, OPS};
use std::fmt;

/// Logits per edge: the 7 ops plus the zero op.
pub const LOGITS_PER_EDGE: usize = OPS.len() + 1;

/// Which softmax gives an edge its strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strength {
    /// Softmax over the 7 real ops only (lab8-reference §4; the default).
    #[default]
    RealOps,
    /// Softmax over all 8 logits, zero op then excluded (NNI `DartsMutator`, DARTS paper code).
    WithZero,
}

/// Logits of the wrong shape or value.
#[derive(Debug, Clone, PartialEq)]
pub enum DeriveError {
    /// Not [`NUM_EDGES`] rows.
    EdgeCount(usize),
    /// Row `edge` does not have [`LOGITS_PER_EDGE`] logits.
    RowLength { edge: usize, len: usize },
    /// Row `edge`, logit `index` is NaN or infinite.
    NonFinite {
        edge: usize,
        index: usize,
        value: f64,
    },
}

impl fmt::Display for DeriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeriveError::EdgeCount(n) => {
                write!(
                    f,
                    "expected {NUM_EDGES} edges of architecture logits, got {n}"
                )
            }
            DeriveError::RowLength { edge, len } => write!(
                f,
                "edge {edge}: expected {LOGITS_PER_EDGE} logits (7 ops + zero), got {len}"
            ),
            DeriveError::NonFinite { edge, index, value } => {
                write!(f, "edge {edge}: logit {index} is not finite ({value})")
            }
        }
    }
}

impl std::error::Error for DeriveError {}

/// Numerically stable softmax of one row (empty in, empty out).
pub fn softmax(row: &[f64]) -> Vec<f64> {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = row.iter().map(|&x| (x - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Softmax of every row over all of its entries (with 8-logit rows: NNI's mixed-op weights
/// before dropping the zero op).
pub fn softmax_rows(alphas: &[Vec<f64>]) -> Vec<Vec<f64>> {
    alphas.iter().map(|r| softmax(r)).collect()
}

fn check(alphas: &[Vec<f64>]) -> Result<(), DeriveError> {
    if alphas.len() != NUM_EDGES {
        return Err(DeriveError::EdgeCount(alphas.len()));
    }
    for (edge, row) in alphas.iter().enumerate() {
        if row.len() != LOGITS_PER_EDGE {
            return Err(DeriveError::RowLength {
                edge,
                len: row.len(),
            });
        }
        if let Some((index, &value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DeriveError::NonFinite { edge, index, value });
        }
    }
    Ok(())
}

/// Per edge (flat order): the chosen op and its strength.
pub fn edge_choices(
    alphas: &[Vec<f64>],
    strength: Strength,
) -> Result<Vec<(usize, f64)>, DeriveError> {
    check(alphas)?;
    Ok(alphas
        .iter()
        .map(|row| {
            let weights = match strength {
                Strength::RealOps => softmax(&row[..OPS.len()]),
                Strength::WithZero => softmax(row)[..OPS.len()].to_vec(),
            };
            let mut best = 0;
            for (i, &w) in weights.iter().enumerate() {
                if w > weights[best] {
                    best = i;
                }
            }
            (best, weights[best])
        })
        .collect())
}

/// Derive a cell, with the strength rule chosen.
pub fn try_derive_cell_with(alphas: &[Vec<f64>], strength: Strength) -> Result<Cell, DeriveError> {
    let choices = edge_choices(alphas, strength)?;
    let nodes = (0..NODES)
        .map(|i| {
            let mut inputs: Vec<usize> = (0..node_inputs(i)).collect();
            // stable: equal strengths keep ascending input order
            inputs.sort_by(|&a, &b| {
                let (sa, sb) = (choices[edge_index(i, a)].1, choices[edge_index(i, b)].1);
                sb.total_cmp(&sa)
            });
            let mut kept = [inputs[0], inputs[1]];
            kept.sort_unstable();
            kept.map(|j| Edge::new(j, choices[edge_index(i, j)].0))
        })
        .collect();
    Ok(Cell { nodes })
}

/// [`try_derive_cell_with`] with the lab8-reference rule ([`Strength::RealOps`]).
pub fn try_derive_cell(alphas: &[Vec<f64>]) -> Result<Cell, DeriveError> {
    try_derive_cell_with(alphas, Strength::RealOps)
}

/// Derive a cell per lab8-reference §4 (softmax over the 7 real ops).
///
/// # Panics
/// When `alphas` is not 14 rows of 8 finite logits; use [`try_derive_cell`] to get an error.
pub fn derive_cell(alphas: &[Vec<f64>]) -> Cell {
    try_derive_cell(alphas).unwrap_or_else(|e| panic!("derive_cell: {e}"))
}

/// Derive a cell as NNI's `DartsMutator.sample_final` ranks edges (softmax over all 8).
///
/// # Panics
/// As [`derive_cell`].
pub fn derive_cell_nni(alphas: &[Vec<f64>]) -> Cell {
    try_derive_cell_with(alphas, Strength::WithZero)
        .unwrap_or_else(|e| panic!("derive_cell_nni: {e}"))
}

/// Both cells of a genotype from their logits.
pub fn try_derive_genotype(
    normal: &[Vec<f64>],
    reduce: &[Vec<f64>],
    strength: Strength,
) -> Result<Genotype, DeriveError> {
    Ok(Genotype {
        normal: try_derive_cell_with(normal, strength)?,
        reduce: try_derive_cell_with(reduce, strength)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::genotype::ZERO_OP;

    /// All-zero logits except `op` on the given edges, set to `value`.
    fn logits(set: &[(usize, usize, usize, f64)]) -> Vec<Vec<f64>> {
        let mut a = vec![vec![0.0; LOGITS_PER_EDGE]; NUM_EDGES];
        for &(node, input, op, value) in set {
            a[edge_index(node, input)][op] = value;
        }
        a
    }

    #[test]
    fn softmax_sums_to_one_and_is_shift_invariant() {
        let rows = vec![
            vec![1.0, 2.0, 3.0],
            vec![1000.0, 1001.0, 1002.0],
            vec![0.0; 8],
        ];
        let s = softmax_rows(&rows);
        for r in &s {
            assert!((r.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        for (x, y) in s[0].iter().zip(&s[1]) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!((s[2][ZERO_OP] - 0.125).abs() < 1e-15);
        assert!(softmax(&[]).is_empty());
    }

    #[test]
    fn derives_darts_v2_normal_from_hand_set_logits() {
        let v2 = Genotype::darts_v2().normal;
        let mut set = Vec::new();
        for (i, edges) in v2.nodes.iter().enumerate() {
            for e in edges {
                set.push((i, e.input, e.op, 3.0));
            }
        }
        // a distractor: a weaker edge (strength of a 1.0 logit) on n5 p4 with op dilconv5x5
        set.push((3, 4, 6, 1.0));
        let a = logits(&set);
        assert_eq!(derive_cell(&a), v2);
        assert_eq!(derive_cell_nni(&a), v2);
    }

    #[test]
    fn zero_op_is_never_chosen() {
        let mut a = logits(&[]);
        for row in &mut a {
            row[ZERO_OP] = 50.0;
            row[4] = 0.5;
        }
        let c = derive_cell(&a);
        assert!(c.nodes.iter().flatten().all(|e| e.op == 4));
        let c = derive_cell_nni(&a);
        assert!(c.nodes.iter().flatten().all(|e| e.op == 4));
    }

    #[test]
    fn output_is_ascending_by_input() {
        // n5: strongest edge on p4, second on p1
        let a = logits(&[(3, 4, 1, 5.0), (3, 1, 2, 4.0)]);
        let c = derive_cell(&a);
        assert_eq!(c.nodes[3], [Edge::new(1, 2), Edge::new(4, 1)]);
        c.validate().unwrap();
    }

    #[test]
    fn ties_are_deterministic() {
        // all logits equal: op tie -> maxpool (index 0), edge tie -> lowest inputs p0, p1
        let c = derive_cell(&logits(&[]));
        for edges in &c.nodes {
            assert_eq!(*edges, [Edge::new(0, 0), Edge::new(1, 0)]);
        }
        // op tie between sepconv5x5 and dilconv3x3 -> sepconv5x5 (lower index)
        let c = derive_cell(&logits(&[(0, 0, 4, 2.0), (0, 0, 5, 2.0)]));
        assert_eq!(c.nodes[0][0], Edge::new(0, 4));
        // edge tie between n4 p1 and p3, both stronger than p0/p2 -> p1, p3;
        // three-way tie p0, p2, p3 behind a stronger p1 -> p0 joins p1
        let c = derive_cell(&logits(&[(2, 1, 3, 2.0), (2, 3, 3, 2.0)]));
        assert_eq!(c.nodes[2], [Edge::new(1, 3), Edge::new(3, 3)]);
        let c = derive_cell(&logits(&[(2, 1, 3, 2.0)]));
        assert_eq!(c.nodes[2], [Edge::new(0, 0), Edge::new(1, 3)]);
    }

    #[test]
    fn real_ops_and_nni_strength_can_disagree() {
        // n3: p0 has a clear op but a huge zero logit; p1 is weak but without zero mass.
        let mut a = logits(&[
            (1, 0, 0, 2.0),
            (1, 1, 0, 1.0),
            (1, 1, 1, 0.9),
            (1, 2, 0, 1.5),
        ]);
        a[edge_index(1, 0)][ZERO_OP] = 10.0;
        let ours = derive_cell(&a);
        let nni = derive_cell_nni(&a);
        assert_eq!(ours.nodes[1], [Edge::new(0, 0), Edge::new(2, 0)]);
        assert_eq!(nni.nodes[1], [Edge::new(1, 0), Edge::new(2, 0)]);
        // the chosen op per edge agrees between the rules
        let c1 = edge_choices(&a, Strength::RealOps).unwrap();
        let c2 = edge_choices(&a, Strength::WithZero).unwrap();
        assert!(c1.iter().zip(&c2).all(|(x, y)| x.0 == y.0));
        assert!((c1[edge_index(1, 0)].1 - 2f64.exp() / (2f64.exp() + 6.0)).abs() < 1e-12);
    }

    #[test]
    fn shape_and_value_errors() {
        let a = logits(&[]);
        assert_eq!(try_derive_cell(&a[..13]), Err(DeriveError::EdgeCount(13)));
        let mut b = a.clone();
        b[5].pop();
        assert_eq!(
            try_derive_cell(&b),
            Err(DeriveError::RowLength { edge: 5, len: 7 })
        );
        let mut c = a.clone();
        c[9][3] = f64::NAN;
        let err = try_derive_cell(&c).unwrap_err();
        assert!(matches!(
            err,
            DeriveError::NonFinite {
                edge: 9,
                index: 3,
                ..
            }
        ));
        assert!(err.to_string().contains("edge 9"));
        let g = try_derive_genotype(&a, &a, Strength::WithZero).unwrap();
        g.validate().unwrap();
    }

    #[test]
    #[should_panic(expected = "derive_cell: expected 14 edges")]
    fn derive_cell_panics_on_bad_shape() {
        derive_cell(&[]);
    }
}
