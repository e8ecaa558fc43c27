"""Compares harness's HPO parts with the implementations they follow, on the same inputs.

Run in the venv of setup.sh, from the repository root, after
`cargo build --release --example compare_driver`:

  python scripts/compare-reference/compare.py anneal       # NNI 3.0's Anneal (hyperopt)
  python scripts/compare-reference/compare.py medianstop   # NNI 3.0's Medianstop
  python scripts/compare-reference/compare.py asha         # Optuna's SuccessiveHalvingPruner
  python scripts/compare-reference/compare.py hyperband    # Optuna's HyperbandPruner
  python scripts/compare-reference/compare.py evolution    # NNI's mutation inside a nested option

Tuners: both sides observe the same fixed history and propose N times from it; each
parameter's proposals are compared with a two-sample KS test. Assessors: the same random
learning curves run as sequential trials; the epochs each trial ran must be equal.
docs/hpo.md has the numbers measured with this script.
"""
import argparse, collections, json, logging, math, random, statistics, subprocess, sys, tempfile

logging.disable(logging.CRITICAL)
DRIVER = "target/release/examples/compare_driver"


def harness(spec):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        # NaN is not JSON: the driver reads null as NaN
        f.write(json.dumps(spec).replace("NaN", "null"))
        f.flush()
        out = subprocess.run([DRIVER, f.name], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def get(params, key):
    for k in key.split("."):
        if not isinstance(params, dict) or k not in params:
            return None
        params = params[k]
    return params


# ---- Anneal -------------------------------------------------------------------------------

def nni_anneal(spec, dedup=False):
    """NNI 3.0's Anneal tuner (HyperoptTuner) fed `spec`'s history, then `n` proposals."""
    import numpy as np
    from nni.algorithms.hpo.hyperopt_tuner import HyperoptTuner
    from nni.utils import split_index

    t = HyperoptTuner("anneal", optimize_mode="maximize" if spec.get("maximize", True) else "minimize")
    t.update_search_space(spec["space"])
    t.rval.rstate = np.random.RandomState(spec.get("seed", 0))
    for i, h in enumerate(spec["history"]):
        t.total_data[f"h{i}"] = with_index(spec["space"], h["parameter"])
        t.receive_trial_result(f"h{i}", h["parameter"], h["value"])
    if dedup:  # NNI's own path, with its repeat check
        return [t.generate_parameters(k) for k in range(spec["n"])]
    return [split_index(t._get_suggestion(random_search=False)) for _ in range(spec["n"])]


def with_index(space, params):
    """NNI's internal form of a configuration: a choice as {'_index': i, '_value': option}."""
    out = {}
    for key, sub in space.items():
        if key not in params:
            continue
        v = params[key]
        if sub["_type"] != "choice":
            out[key] = v
        elif isinstance(v, dict):
            i = next(j for j, o in enumerate(sub["_value"]) if isinstance(o, dict) and o["_name"] == v["_name"])
            inner = {k: x for k, x in sub["_value"][i].items() if k != "_name"}
            out[key] = {"_index": i, "_value": dict(with_index(inner, v), _name=v["_name"])}
        else:
            out[key] = {"_index": sub["_value"].index(v), "_value": v}
    return out


ANNEAL_CASES = [
    ("a best value near a bound", 3000, ["x"], {
        "space": {"x": {"_type": "uniform", "_value": [0, 1]}},
        "history": [{"parameter": {"x": 0.02}, "value": 0.9}, {"parameter": {"x": 0.5}, "value": 0.5},
                    {"parameter": {"x": 0.8}, "value": 0.3}]}),
    ("nested options", 40000, ["x", "opt.m", "opt.b"], {
        "space": {"x": {"_type": "uniform", "_value": [0, 1]},
                  "opt": {"_type": "choice", "_value": [
                      {"_name": "sgd", "m": {"_type": "uniform", "_value": [0, 1]}},
                      {"_name": "adam", "b": {"_type": "loguniform", "_value": [0.0001, 1]}}]}},
        "history": [
            {"parameter": {"x": 0.3, "opt": {"_name": "sgd", "m": 0.9}}, "value": 0.9},
            {"parameter": {"x": 0.6, "opt": {"_name": "adam", "b": 0.001}}, "value": 0.8},
            {"parameter": {"x": 0.7, "opt": {"_name": "adam", "b": 0.5}}, "value": 0.2},
            {"parameter": {"x": 0.1, "opt": {"_name": "sgd", "m": 0.2}}, "value": 0.1}]}),
    ("every other type, minimized", 20000, ["lr", "q", "ql", "n", "qn", "ln", "qln", "k", "c"], {
        "maximize": False,
        "space": {"lr": {"_type": "loguniform", "_value": [0.0001, 1]},
                  "q": {"_type": "quniform", "_value": [0, 10, 3]},
                  "ql": {"_type": "qloguniform", "_value": [1, 100, 7]},
                  "n": {"_type": "normal", "_value": [0, 2]},
                  "qn": {"_type": "qnormal", "_value": [5, 3, 2]},
                  "ln": {"_type": "lognormal", "_value": [0, 1]},
                  "qln": {"_type": "qlognormal", "_value": [2, 1, 5]},
                  "k": {"_type": "randint", "_value": [3, 9]},
                  "c": {"_type": "choice", "_value": ["a", "b", 7, 0.5]}},
        "history": [
            {"parameter": {"lr": 0.0002, "q": 9, "ql": 98, "n": 3.0, "qn": 4, "ln": 0.2, "qln": 10, "k": 8, "c": 7}, "value": 0.1},
            {"parameter": {"lr": 0.5, "q": 0, "ql": 1, "n": -1.0, "qn": 10, "ln": 3.0, "qln": 0, "k": 3, "c": "a"}, "value": 0.5},
            {"parameter": {"lr": 0.01, "q": 3, "ql": 14, "n": 0.0, "qn": 0, "ln": 1.0, "qln": 5, "k": 5, "c": 0.5}, "value": 0.3}]}),
]


def anneal(args):
    from scipy import stats
    for title, n, keys, case in ANNEAL_CASES:
        spec = dict(case, tuner="anneal", options={}, n=n // args.scale, seed=args.seed)
        ours, theirs = harness(spec), nni_anneal(spec)
        print(f"{title}: {spec['n']} proposals a side")
        for key in keys:
            a = [get(p, key) for p in theirs]
            b = [get(p, key) for p in ours]
            if all(isinstance(v, (int, float)) for v in a + b if v is not None):
                a = [v for v in a if v is not None]
                b = [v for v in b if v is not None]
                print(f"  {key:6} NNI mean {statistics.mean(a):.4f}, harness {statistics.mean(b):.4f}, "
                      f"KS p {stats.ks_2samp(a, b).pvalue:.3g}")
            else:  # a choice of strings and numbers: compare frequencies
                ca, cb = collections.Counter(map(str, a)), collections.Counter(map(str, b))
                table = [[ca[k] for k in sorted(ca | cb)], [cb[k] for k in sorted(ca | cb)]]
                print(f"  {key:6} NNI {dict(sorted(ca.items()))}, harness {dict(sorted(cb.items()))}, "
                      f"chi-square p {stats.chi2_contingency(table).pvalue:.3g}")
    # Repeats on a 9-point space: NNI's one redraw may repeat; harness never repeats.
    space = {"a": {"_type": "choice", "_value": [1, 2, 3]}, "b": {"_type": "randint", "_value": [0, 3]}}
    history = [{"parameter": {"a": 1, "b": 0}, "value": 0.9}, {"parameter": {"a": 2, "b": 1}, "value": 0.5}]
    seen = {json.dumps(h["parameter"], sort_keys=True) for h in history}
    repeats = []
    for seed in range(1, 9):
        spec = {"space": space, "history": history, "n": 7, "seed": seed}
        got = [json.dumps(p, sort_keys=True) for p in nni_anneal(spec, dedup=True)]
        repeats.append(7 - len(set(got) - seen))
    print(f"a 9-point space, 7 proposals after 2 trials: NNI repeated {repeats} (seeds 1-8); "
          "harness never repeats (unit test a_discrete_space_is_proposed_without_repeats_then_exhausted)")


# ---- Assessors ----------------------------------------------------------------------------

def random_curves(rng, epochs, trials, nans=False):
    coarse = rng.random() < 0.5  # half the experiments with tied values
    curves = []
    for _ in range(trials):
        base, slope = rng.random(), rng.uniform(-0.1, 0.3)
        c = [base + slope * e / epochs * 5 + rng.gauss(0, 0.1) for e in range(epochs)]
        if coarse:
            c = [round(v * 5) / 5 for v in c]
        if nans and rng.random() < 0.05:
            c[rng.randrange(epochs)] = float("nan")
        curves.append(c)
    return curves


def optuna_run(pruner, maximize, curves):
    """Sequential Optuna trials reporting `curves`; the epochs each ran."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize" if maximize else "minimize", pruner=pruner)
    ran = []
    for c in curves:
        t = study.ask()
        e = 1
        while True:
            t.report(c[e - 1], e)
            if e == len(c) or t.should_prune():
                break
            e += 1
        done = e == len(c)
        study.tell(t, state=optuna.trial.TrialState.COMPLETE if done else optuna.trial.TrialState.PRUNED,
                   values=(0.0 if math.isnan(c[-1]) else c[-1]) if done else None)
        ran.append(e)
    return ran


def compare_stops(name, experiments, make):
    differ = 0
    for case in range(experiments):
        theirs, spec = make(random.Random(case))
        ours = harness(spec)[0]
        if ours != theirs:
            differ += 1
            if differ <= 3:
                print(f"  experiment {case} {spec['options']}:\n    reference {theirs}\n    harness   {ours}")
    print(f"{name}: {experiments} random experiments, {differ} differ")


def medianstop(args):
    from nni.algorithms.hpo.medianstop_assessor import MedianstopAssessor
    from nni.assessor import AssessResult

    def make(rng):
        epochs, trials = rng.randint(2, 8), rng.randint(3, 25)
        start, maximize = rng.choice([0, 0, 1, 2, 3, 5]), rng.random() < 0.5
        curves = random_curves(rng, epochs, trials)
        a = MedianstopAssessor("maximize" if maximize else "minimize", start)
        ran = []
        for tid, c in enumerate(curves):
            e = 1
            while e < epochs and a.assess_trial(tid, c[:e]) == AssessResult.Good:
                e += 1
            if e == epochs:
                a.assess_trial(tid, c)  # NNI judges the last epoch too; the trial ends anyway
            a.trial_end(tid, e == epochs)
            ran.append(e)
        return ran, {"assessor": "medianstop", "options": {"start_step": start}, "maximize": maximize, "curves": curves}

    compare_stops("NNI Medianstop vs medianstop", args.experiments, make)


def asha(args):
    import optuna

    def make(rng):
        epochs, trials = rng.randint(2, 12), rng.randint(3, 30)
        opts = {"type": "stopping", "min_resource": rng.choice([1, 1, 2, 3]), "reduction_factor": rng.choice([2, 3, 4]),
                "min_early_stopping_rate": rng.choice([0, 0, 1]), "bootstrap_count": rng.choice([0, 0, 0, 1, 2])}
        maximize = rng.random() < 0.5
        curves = random_curves(rng, epochs, trials, nans=True)
        pruner = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=opts["min_resource"], reduction_factor=opts["reduction_factor"],
            min_early_stopping_rate=opts["min_early_stopping_rate"], bootstrap_count=opts["bootstrap_count"])
        return optuna_run(pruner, maximize, curves), {"assessor": "asha", "options": opts, "maximize": maximize, "curves": curves}

    compare_stops("Optuna SuccessiveHalvingPruner vs asha (stopping)", args.experiments, make)


def hyperband(args):
    import optuna

    def by_trial_number(self, study, trial):
        # harness's documented assignment (Optuna hashes the study name and trial number)
        if not self._pruners:
            return 0
        n = trial.number % self._total_trial_allocation_budget
        for b in range(self._n_brackets):
            n -= self._trial_allocation_budgets[b]
            if n < 0:
                return b

    optuna.pruners.HyperbandPruner._get_bracket_id = by_trial_number

    def make(rng):
        epochs, trials = rng.randint(2, 30), rng.randint(3, 40)
        opts = {"min_resource": min(rng.choice([1, 1, 2, 3]), epochs), "reduction_factor": rng.choice([2, 3, 4])}
        maximize = rng.random() < 0.5
        curves = random_curves(rng, epochs, trials)
        pruner = optuna.pruners.HyperbandPruner(min_resource=opts["min_resource"], max_resource=epochs,
                                                reduction_factor=opts["reduction_factor"])
        return optuna_run(pruner, maximize, curves), {"assessor": "hyperband", "options": opts, "maximize": maximize, "curves": curves}

    compare_stops("Optuna HyperbandPruner vs hyperband (brackets by trial number)", args.experiments, make)


# ---- Evolution ----------------------------------------------------------------------------

def evolution(args):
    """How often NNI's mutant is its parent unchanged, in a space with a nested option."""
    import numpy as np
    from nni.algorithms.hpo.evolution_tuner import EvolutionTuner
    space = {"x": {"_type": "uniform", "_value": [0, 1]},
             "opt": {"_type": "choice", "_value": [
                 {"_name": "sgd", "m": {"_type": "uniform", "_value": [0, 1]}},
                 {"_name": "adam", "b": {"_type": "uniform", "_value": [0, 1]}}]}}
    random.seed(args.seed)
    unchanged = 0
    for rep in range(args.experiments):
        t = EvolutionTuner("maximize", population_size=2)
        t.update_search_space(space)
        t.random_state = np.random.RandomState(rep)
        parent, loser = t.generate_parameters(0), t.generate_parameters(1)
        t.receive_trial_result(0, parent, 0.9)
        t.trial_end(0, True)
        t.receive_trial_result(1, loser, 0.1)
        t.trial_end(1, True)
        unchanged += t.generate_parameters(2) == parent
    print(f"NNI Evolution: {unchanged} of {args.experiments} mutants equal their parent "
          "(x, opt and opt's one sub-parameter can be picked; the sub-parameter's third is a no-op there)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("part", choices=["anneal", "medianstop", "asha", "hyperband", "evolution"])
    p.add_argument("--experiments", type=int, default=300, help="random experiments (assessors, evolution)")
    p.add_argument("--scale", type=int, default=1, help="divide the anneal sample sizes by this")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    globals()[args.part](args)


if __name__ == "__main__":
    sys.exit(main())
