//! The discrete DARTS cell description shared by the NAS modules (crate::nas::genotype).

/// Candidate operations in NNI's index order (lab8-reference §4). The DARTS "zero" op is
/// not here: it exists only as the 8th architecture logit (index 7) during search.
pub const OPS: [&str; 7] = [
    "maxpool",
    "avgpool",
    "skipconnect",
    "sepconv3x3",
    "sepconv5x5",
    "dilconv3x3",
    "dilconv5x5",
];
/// Index of the implicit zero op among the search logits.
pub const ZERO_OP: usize = 7;
/// Intermediate nodes per cell (n2..n5).
pub const NODES: usize = 4;

/// One kept edge into a node: `input` 0 = s0 (cell k-2), 1 = s1 (cell k-1), j >= 2 = node n_j.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edge {
    pub input: usize,
    pub op: usize,
}

/// A discrete cell: `nodes[i]` holds the two kept edges of node n_{i+2}, ascending by input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cell {
    pub nodes: Vec<[Edge; 2]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Genotype {
    pub normal: Cell,
    pub reduce: Cell,
}

// ---------------------------------------------------------------------------------------------
// Additions (nas-files). Everything above this line is the shared contract and stays unchanged.
// ---------------------------------------------------------------------------------------------

use rand::Rng;
use std::fmt;

/// Number of candidate ops of an edge (the zero op excluded).
pub const NUM_OPS: usize = OPS.len();
/// Candidate input edges over all intermediate nodes: 2 + 3 + 4 + 5.
pub const NUM_EDGES: usize = 14;

/// Index of an op name in [`OPS`] (exact, case-sensitive match as NNI's `mutable.names.index`).
pub fn op_index(name: &str) -> Option<usize> {
    OPS.iter().position(|&o| o == name)
}

/// Name of an op index, `None` when out of range (the zero op has no name here).
pub fn op_name(index: usize) -> Option<&'static str> {
    OPS.get(index).copied()
}

/// The valid ops as `0 maxpool, 1 avgpool, ...` for error messages.
pub fn ops_list() -> String {
    OPS.iter()
        .enumerate()
        .map(|(i, o)| format!("{i} {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Number of candidate inputs of intermediate node `i` (0-based: node n_{i+2} has i + 2).
pub const fn node_inputs(i: usize) -> usize {
    i + 2
}

/// Flat edge index (search-logit row) of edge `input` -> node `i` (0-based node index):
/// n2 p0,p1 = 0,1; n3 p0..p2 = 2..4; n4 p0..p3 = 5..8; n5 p0..p4 = 9..13.
pub const fn edge_index(i: usize, input: usize) -> usize {
    // rows before node i: sum_{k<i} (k + 2) = i * (i + 3) / 2
    i * (i + 3) / 2 + input
}

/// Name of a cell input / node: `s0`, `s1`, `n2`, ... as used in the text rendering.
pub fn input_name(input: usize) -> String {
    match input {
        0 => "s0".to_string(),
        1 => "s1".to_string(),
        j => format!("n{j}"),
    }
}

/// Why a [`Cell`] is not a valid discrete DARTS cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellError {
    /// The cell does not have exactly [`NODES`] intermediate nodes.
    NodeCount(usize),
    /// Node n{node}: an input is not one of its predecessors (s0, s1, n2..n{node-1}).
    InputOutOfRange { node: usize, input: usize },
    /// Node n{node}: both edges come from the same input.
    DuplicateInput { node: usize, input: usize },
    /// Node n{node}: edges are not in ascending input order.
    NotAscending { node: usize },
    /// Node n{node}: op index out of range.
    OpOutOfRange {
        node: usize,
        input: usize,
        op: usize,
    },
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellError::NodeCount(n) => {
                write!(f, "cell has {n} intermediate nodes, expected {NODES}")
            }
            CellError::InputOutOfRange { node, input } => write!(
                f,
                "node n{node}: input {input} is not a predecessor (valid: 0..{node})"
            ),
            CellError::DuplicateInput { node, input } => {
                write!(f, "node n{node}: both edges come from input {input}")
            }
            CellError::NotAscending { node } => {
                write!(f, "node n{node}: edges are not in ascending input order")
            }
            CellError::OpOutOfRange { node, input, op } => write!(
                f,
                "node n{node}, input {input}: op index {op} out of range (valid ops: {})",
                ops_list()
            ),
        }
    }
}

impl std::error::Error for CellError {}

impl Edge {
    pub const fn new(input: usize, op: usize) -> Edge {
        Edge { input, op }
    }

    /// The op's name (`"?"` when out of range; call [`Cell::validate`] first).
    pub fn op_name(&self) -> &'static str {
        op_name(self.op).unwrap_or("?")
    }
}

impl Cell {
    /// Build from `(input, op)` pairs per node, e.g. `[[(0, 3), (1, 3)], ...]`.
    pub fn from_pairs(nodes: &[[(usize, usize); 2]]) -> Cell {
        Cell {
            nodes: nodes
                .iter()
                .map(|n| [Edge::new(n[0].0, n[0].1), Edge::new(n[1].0, n[1].1)])
                .collect(),
        }
    }

    /// Uniform sample from the discrete space (random-search baseline): for each node, 2
    /// distinct inputs uniformly among its predecessors (every unordered pair equally likely),
    /// stored ascending, then each edge's op uniform over the 7 ops. Draw order per node:
    /// first input, second input, op of the lower input, op of the higher input.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Cell {
        let nodes = (0..NODES)
            .map(|i| {
                let k = node_inputs(i);
                let a = rng.random_range(0..k);
                let mut b = rng.random_range(0..k - 1);
                if b >= a {
                    b += 1;
                }
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                let op_lo = rng.random_range(0..NUM_OPS);
                let op_hi = rng.random_range(0..NUM_OPS);
                [Edge::new(lo, op_lo), Edge::new(hi, op_hi)]
            })
            .collect();
        Cell { nodes }
    }

    /// Check the invariants: [`NODES`] nodes; node n_j's inputs in 0..j, distinct, ascending;
    /// ops in range.
    pub fn validate(&self) -> Result<(), CellError> {
        if self.nodes.len() != NODES {
            return Err(CellError::NodeCount(self.nodes.len()));
        }
        for (i, edges) in self.nodes.iter().enumerate() {
            let node = i + 2;
            for e in edges {
                if e.input >= node_inputs(i) {
                    return Err(CellError::InputOutOfRange {
                        node,
                        input: e.input,
                    });
                }
                if e.op >= NUM_OPS {
                    return Err(CellError::OpOutOfRange {
                        node,
                        input: e.input,
                        op: e.op,
                    });
                }
            }
            if edges[0].input == edges[1].input {
                return Err(CellError::DuplicateInput {
                    node,
                    input: edges[0].input,
                });
            }
            if edges[0].input > edges[1].input {
                return Err(CellError::NotAscending { node });
            }
        }
        Ok(())
    }

    /// The kept op on edge `input` -> node index `i` (0-based), if that edge is kept.
    pub fn op_on(&self, i: usize, input: usize) -> Option<usize> {
        self.nodes
            .get(i)?
            .iter()
            .find(|e| e.input == input)
            .map(|e| e.op)
    }
}

impl Genotype {
    /// The DARTS paper's DARTS_V2 cells (second-order search; Liu et al. 2019, `genotypes.py`).
    pub fn darts_v2() -> Genotype {
        const MAX: usize = 0;
        const SKIP: usize = 2;
        const SEP3: usize = 3;
        const DIL3: usize = 5;
        Genotype {
            normal: Cell::from_pairs(&[
                [(0, SEP3), (1, SEP3)],
                [(0, SEP3), (1, SEP3)],
                [(0, SKIP), (1, SEP3)],
                [(0, SKIP), (2, DIL3)],
            ]),
            reduce: Cell::from_pairs(&[
                [(0, MAX), (1, MAX)],
                [(1, MAX), (2, SKIP)],
                [(0, MAX), (2, SKIP)],
                [(1, MAX), (2, SKIP)],
            ]),
        }
    }

    /// A uniform random genotype (normal cell drawn first, then reduce).
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Genotype {
        let normal = Cell::random(rng);
        let reduce = Cell::random(rng);
        Genotype { normal, reduce }
    }

    /// Validate both cells; the error says which one.
    pub fn validate(&self) -> Result<(), (&'static str, CellError)> {
        self.normal.validate().map_err(|e| ("normal", e))?;
        self.reduce.validate().map_err(|e| ("reduce", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    #[test]
    fn op_index_roundtrip() {
        for (i, name) in OPS.iter().enumerate() {
            assert_eq!(op_index(name), Some(i));
            assert_eq!(op_name(i), Some(*name));
        }
        assert_eq!(op_index("none"), None);
        assert_eq!(op_index("SepConv3x3"), None);
        assert_eq!(op_name(ZERO_OP), None);
        assert_eq!(op_index("sepconv3x3"), Some(3));
        assert_eq!(op_index("dilconv3x3"), Some(5));
    }

    #[test]
    fn edge_index_layout() {
        let mut flat = 0;
        for i in 0..NODES {
            for input in 0..node_inputs(i) {
                assert_eq!(edge_index(i, input), flat);
                flat += 1;
            }
        }
        assert_eq!(flat, NUM_EDGES);
    }

    #[test]
    fn darts_v2_is_valid_and_matches_reference() {
        let g = Genotype::darts_v2();
        g.validate().unwrap();
        assert_eq!(g.normal.op_on(3, 2), Some(op_index("dilconv3x3").unwrap()));
        assert_eq!(g.normal.op_on(3, 1), None);
        assert_eq!(g.reduce.op_on(1, 2), Some(op_index("skipconnect").unwrap()));
        assert_eq!(g.reduce.op_on(0, 0), Some(op_index("maxpool").unwrap()));
    }

    #[test]
    fn validate_rejects_bad_cells() {
        let good = Genotype::darts_v2().normal;
        let mut c = good.clone();
        c.nodes.pop();
        assert_eq!(c.validate(), Err(CellError::NodeCount(3)));
        let mut c = good.clone();
        c.nodes[0][1].input = 2;
        assert_eq!(
            c.validate(),
            Err(CellError::InputOutOfRange { node: 2, input: 2 })
        );
        let mut c = good.clone();
        c.nodes[1][1].input = 0;
        assert_eq!(
            c.validate(),
            Err(CellError::DuplicateInput { node: 3, input: 0 })
        );
        let mut c = good.clone();
        c.nodes[2].swap(0, 1);
        assert_eq!(c.validate(), Err(CellError::NotAscending { node: 4 }));
        let mut c = good;
        c.nodes[3][0].op = ZERO_OP;
        let err = c.validate().unwrap_err();
        assert!(err.to_string().contains("6 dilconv5x5"), "{err}");
    }

    #[test]
    fn random_cells_are_valid_deterministic_and_cover_the_space() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let a = Cell::random(&mut rng);
        let mut rng2 = ChaCha8Rng::seed_from_u64(7);
        assert_eq!(a, Cell::random(&mut rng2));

        let mut pairs: HashMap<(usize, usize), usize> = HashMap::new();
        let mut ops = [0usize; NUM_OPS];
        let n = 4000;
        for _ in 0..n {
            let c = Cell::random(&mut rng);
            c.validate().unwrap();
            // node n5 has 5 inputs: 10 unordered pairs
            let e = c.nodes[3];
            *pairs.entry((e[0].input, e[1].input)).or_default() += 1;
            for edges in &c.nodes {
                for e in edges {
                    ops[e.op] += 1;
                }
            }
        }
        assert_eq!(pairs.len(), 10);
        // loose bounds: expected 400 per pair, 8 * 4000 / 7 ~ 4571 per op
        assert!(
            pairs.values().all(|&k| (300..500).contains(&k)),
            "{pairs:?}"
        );
        assert!(ops.iter().all(|&k| (4100..5050).contains(&k)), "{ops:?}");
    }
}
