//! NNI's `Deduplicator` (`nni/common/hpo_utils/dedup.py`), as its random and TPE tuners use
//! it: a proposal made before is replaced by the next untried point of the grid search over
//! the space, and when the grid has none left the tuner is exhausted. A space where some
//! top-level parameter is continuous is never deduplicated (its draws do not repeat).
use crate::hpo::space::{Dist, Params, SearchSpace};
use crate::hpo::tuner::{canonical, Grid};
use std::collections::HashSet;

pub(crate) struct Dedup {
    /// Every configuration proposed, as canonical JSON.
    seen: HashSet<String>,
    /// Built at the first repeat, as NNI does; None until then.
    grid: Option<Grid>,
}

impl Dedup {
    /// None where no proposal can repeat: NNI's `_spec_never_dup` over the top-level
    /// parameters, a continuous range (low < high, or sigma > 0) with no q. Parameters inside
    /// a nested choice do not count ("not chosen" repeats "not chosen"), nor do choice,
    /// randint and q-types.
    pub(crate) fn for_space(space: &SearchSpace) -> Option<Dedup> {
        let never_repeats = space.params.iter().any(|p| match p.dist {
            Dist::Uniform { low, high } | Dist::LogUniform { low, high } => low < high,
            Dist::Normal { sigma, .. } | Dist::LogNormal { sigma, .. } => sigma > 0.0,
            _ => false,
        });
        (!never_repeats).then(|| Dedup {
            seen: HashSet::new(),
            grid: None,
        })
    }

    /// Whether `params` was not proposed before.
    pub(crate) fn is_new(&self, params: &Params) -> bool {
        !self.seen.contains(&canonical(params))
    }

    /// `proposed` if it is new; else the next untried grid point; None when none is left.
    pub(crate) fn pass(&mut self, proposed: Params, space: &SearchSpace) -> Option<Params> {
        if self.seen.insert(canonical(&proposed)) {
            return Some(proposed);
        }
        // The grid's walk itself: `seen` already holds every point it gave (the grid tuner's
        // own record of them would be a second copy).
        let grid = self.grid.get_or_insert_with(|| Grid::new(space));
        std::iter::from_fn(|| grid.next_point()).find(|p| self.seen.insert(canonical(p)))
    }
}
