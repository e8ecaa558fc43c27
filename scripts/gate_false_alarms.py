#!/usr/bin/env python3
"""How often `harness check` fails an arm, by simulation (docs/regression-gate.md, "Several
arms, no correction"): 3 vs 3 seeds with normal seed noise, Welch's one-sided bounds as
stats::gate::decide computes them, threshold θ = 1 (the tolerance), pass margin 3θ.

    python3 scripts/gate_false_alarms.py [--reruns N] [--alpha A] [--arms K]

Needs numpy and scipy (not the harness's dependencies: this only checks a documented number).
"""
import argparse

import numpy as np
from scipy import stats


def verdicts(rng, n, sd, drop, alpha, seeds=3, theta=1.0, margin=3.0):
    """Fail, Pass and Inconclusive rates of one arm over n simulated reruns."""
    base = rng.normal(0.0, sd, (n, seeds))
    cand = rng.normal(-drop, sd, (n, seeds))
    va, vb = base.var(1, ddof=1), cand.var(1, ddof=1)
    se = np.sqrt(va / seeds + vb / seeds)
    df = se**4 / ((va / seeds) ** 2 / (seeds - 1) + (vb / seeds) ** 2 / (seeds - 1))
    diff = cand.mean(1) - base.mean(1)
    q = stats.t.ppf(1 - alpha, df)
    fail = diff + q * se < -theta
    passed = ~fail & (diff - q * se >= -margin * theta)
    return fail.mean(), passed.mean(), 1 - fail.mean() - passed.mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reruns", type=int, default=2_000_000)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--arms", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{args.reruns} reruns per row, 3 vs 3 seeds, alpha {args.alpha}, theta = 1")
    for sd in [0.5, 1.0, 2.0]:
        for drop in [0.0, 1.0]:
            fail, passed, inconclusive = verdicts(rng, args.reruns, sd, drop, args.alpha)
            some = 1 - (1 - fail) ** args.arms
            print(
                f"seed sd {sd}θ, true drop {drop}θ: Fail {fail:.4%} (at least one of "
                f"{args.arms} arms: {some:.3%}), Pass {passed:.2%}, Inconclusive {inconclusive:.2%}"
            )


if __name__ == "__main__":
    main()
