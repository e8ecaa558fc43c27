//! DARTS cells: the discrete cell of a [`Genotype`] and the mixed-op search cell.
//!
//! Wiring (lab8-reference §4): inputs s0 (cell k−2) and s1 (cell k−1) are preprocessed to C
//! channels (FactorizedReduce for s0 after a reduction cell, else ReLU-conv1×1-BN);
//! intermediate nodes n2..n5, node i reads p0..p(i−1) (p0 = s0, p1 = s1, pj = node nj);
//! the output is concat(n2..n5) = 4·C channels. In a reduction cell edges from p0/p1 have
//! stride 2.

use crate::nas::genotype::{Cell, NODES};
use crate::nas::ops::{drop_path, FactorizedReduce, Op, Params, StdConv};
use tch::nn;
use tch::Tensor;

/// Preprocessing of s0: FactorizedReduce after a reduction cell, otherwise ReLU-conv-BN.
#[derive(Debug)]
pub enum Preprocess {
    Reduce(FactorizedReduce),
    Std(StdConv),
}

impl Preprocess {
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, reduce: bool, affine: bool) -> Self {
        if reduce {
            Preprocess::Reduce(FactorizedReduce::new(p, c_in, c_out, affine))
        } else {
            Preprocess::Std(StdConv::new(p, c_in, c_out, affine))
        }
    }
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        match self {
            Preprocess::Reduce(o) => o.forward_t(x, train),
            Preprocess::Std(o) => o.forward_t(x, train),
        }
    }
}

/// Number of candidate edges in a cell (2 + 3 + 4 + 5).
pub const EDGES: usize = 14;

/// Index (0..14) of the edge from input `j` into node n_{i+2} (`node` = i in 0..4).
pub fn edge_index(node: usize, input: usize) -> usize {
    // node i has i + 2 inputs; edges of earlier nodes: sum_{k<i}(k+2) = i(i+3)/2.
    node * (node + 3) / 2 + input
}

/// A cell of the discrete network: two kept edges per node, affine BN.
#[derive(Debug)]
pub struct DiscreteCell {
    pub reduction: bool,
    pub pre0: Preprocess,
    pub pre1: StdConv,
    /// `ops[i]` are the two (input index, op) pairs of node n_{i+2}.
    pub ops: Vec<[(usize, Op); 2]>,
}

impl DiscreteCell {
    pub fn new(
        p: nn::Path,
        cell: &Cell,
        c_pp: i64,
        c_p: i64,
        c: i64,
        reduction: bool,
        reduction_prev: bool,
    ) -> Self {
        assert_eq!(cell.nodes.len(), NODES, "a cell has {NODES} nodes");
        let pre0 = Preprocess::new(&p / "pre0", c_pp, c, reduction_prev, true);
        let pre1 = StdConv::new(&p / "pre1", c_p, c, true);
        let ops = cell
            .nodes
            .iter()
            .enumerate()
            .map(|(i, edges)| {
                let mk = |k: usize| {
                    let e = edges[k];
                    assert!(
                        e.input < i + 2,
                        "node n{} cannot read input {}",
                        i + 2,
                        e.input
                    );
                    let stride = if reduction && e.input < 2 { 2 } else { 1 };
                    let path = &p / format!("n{}_p{}_{}", i + 2, e.input, k);
                    (e.input, Op::new(path, e.op, c, stride, true))
                };
                [mk(0), mk(1)]
            })
            .collect();
        DiscreteCell {
            reduction,
            pre0,
            pre1,
            ops,
        }
    }

    /// Trainable parameters of the cell [`DiscreteCell::new`] builds, counted without
    /// building it (a wide network's count must not cost its memory).
    pub fn param_count(
        cell: &Cell,
        c_pp: i64,
        c_p: i64,
        c: i64,
        reduction: bool,
        reduction_prev: bool,
    ) -> i64 {
        let pre0 = if reduction_prev {
            FactorizedReduce::param_count(c_pp, c)
        } else {
            StdConv::param_count(c_pp, c)
        };
        let edges: i64 = cell
            .nodes
            .iter()
            .flatten()
            .map(|e| {
                let stride = if reduction && e.input < 2 { 2 } else { 1 };
                Op::param_count(e.op, c, stride)
            })
            .sum();
        pre0 + StdConv::param_count(c_p, c) + edges
    }

    pub fn forward_t(&self, s0: &Tensor, s1: &Tensor, train: bool, drop_prob: f64) -> Tensor {
        let mut states = vec![
            self.pre0.forward_t(s0, train),
            self.pre1.forward_t(s1, train),
        ];
        for node in &self.ops {
            let mut sum: Option<Tensor> = None;
            for (input, op) in node {
                let mut h = op.forward_t(&states[*input], train);
                if !op.is_identity() {
                    h = drop_path(&h, drop_prob, train);
                }
                sum = Some(match sum {
                    None => h,
                    Some(s) => s + h,
                });
            }
            states.push(sum.expect("two edges"));
        }
        Tensor::cat(&states[2..], 1)
    }
}

/// One mixed edge: all 7 real ops; the zero op (logit 7) contributes nothing.
#[derive(Debug)]
pub struct MixedOp {
    pub ops: Vec<Op>,
}

impl MixedOp {
    pub fn new(p: nn::Path, c: i64, stride: i64) -> Self {
        MixedOp {
            ops: (0..crate::nas::genotype::OPS.len())
                .map(|i| Op::new(&p / format!("op{i}"), i, c, stride, false))
                .collect(),
        }
    }
    /// `w`: the 8 softmax weights of this edge.
    pub fn forward_t(&self, x: &Tensor, w: &Tensor, train: bool) -> Tensor {
        let mut sum: Option<Tensor> = None;
        for (i, op) in self.ops.iter().enumerate() {
            let h = op.forward_t(x, train) * w.get(i as i64);
            sum = Some(match sum {
                None => h,
                Some(s) => s + h,
            });
        }
        sum.expect("at least one op")
    }
}

/// A cell of the search supernet: every candidate edge is a [`MixedOp`], BN affine=false.
#[derive(Debug)]
pub struct SearchCell {
    pub reduction: bool,
    pub pre0: Preprocess,
    pub pre1: StdConv,
    pub edges: Vec<MixedOp>,
}

impl SearchCell {
    pub fn new(
        p: nn::Path,
        c_pp: i64,
        c_p: i64,
        c: i64,
        reduction: bool,
        reduction_prev: bool,
    ) -> Self {
        let pre0 = Preprocess::new(&p / "pre0", c_pp, c, reduction_prev, false);
        let pre1 = StdConv::new(&p / "pre1", c_p, c, false);
        let mut edges = Vec::with_capacity(EDGES);
        for node in 0..NODES {
            for input in 0..node + 2 {
                let stride = if reduction && input < 2 { 2 } else { 1 };
                edges.push(MixedOp::new(
                    &p / format!("n{}_p{}", node + 2, input),
                    c,
                    stride,
                ));
            }
        }
        SearchCell {
            reduction,
            pre0,
            pre1,
            edges,
        }
    }

    /// `weights`: [14, 8] softmax weights for this cell type.
    pub fn forward_t(&self, s0: &Tensor, s1: &Tensor, weights: &Tensor, train: bool) -> Tensor {
        let mut states = vec![
            self.pre0.forward_t(s0, train),
            self.pre1.forward_t(s1, train),
        ];
        for node in 0..NODES {
            let mut sum: Option<Tensor> = None;
            for (input, state) in states.iter().enumerate().take(node + 2) {
                let e = edge_index(node, input);
                let h = self.edges[e].forward_t(state, &weights.get(e as i64), train);
                sum = Some(match sum {
                    None => h,
                    Some(s) => s + h,
                });
            }
            states.push(sum.expect("node has inputs"));
        }
        Tensor::cat(&states[2..], 1)
    }
}

impl Params for Preprocess {
    fn params(&self, out: &mut Vec<Tensor>) {
        match self {
            Preprocess::Reduce(o) => o.params(out),
            Preprocess::Std(o) => o.params(out),
        }
    }
}

impl Params for DiscreteCell {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.pre0.params(out);
        self.pre1.params(out);
        for node in &self.ops {
            for (_, op) in node {
                op.params(out);
            }
        }
    }
}

impl Params for MixedOp {
    fn params(&self, out: &mut Vec<Tensor>) {
        for op in &self.ops {
            op.params(out);
        }
    }
}

impl Params for SearchCell {
    fn params(&self, out: &mut Vec<Tensor>) {
        self.pre0.params(out);
        self.pre1.params(out);
        for e in &self.edges {
            e.params(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_order_matches_alpha_layout() {
        let mut k = 0;
        for node in 0..NODES {
            for input in 0..node + 2 {
                assert_eq!(edge_index(node, input), k);
                k += 1;
            }
        }
        assert_eq!(k, EDGES);
    }
}
