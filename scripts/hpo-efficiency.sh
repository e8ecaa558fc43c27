#!/usr/bin/env bash
# Measures issue #3's efficiency question on the quick suite's search space: over tuner seeds
# (default 0-4), does TPE with ASHA reach the best full-budget validation accuracy that 20
# random full-budget trials (15 epochs each, 300 trial-epochs) reach, and with what share of
# their trial-epochs? The random search of tuner seed s runs with tuner seed 1000 + s: the
# random tuner and TPE's startup trials draw from the same generator, so with the same seed
# TPE would start with random's first trials and inherit its best whenever that is one of
# them. Both chosen configurations are also retrained at the full budget over the suite's
# seeds and scored on the test split, as the tuned arm reports them. Needs a release build
# (`cargo build --release`).
#
# Usage: scripts/hpo-efficiency.sh [WORKDIR]   (default: a new temporary folder)
# The TPE side is set by TRIALS (max_trials, default 20), BUDGET (max_trial_epochs, default
# none), STARTUP (n_startup_trials, 6), TPE_OPTIONS (more tuner options in TOML, e.g.
# "multivariate = true"), MIN_RESOURCE (1), ETA (ASHA's reduction factor, 3), TYPE (ASHA's
# type: stopping, promotion or synchronous; default stopping) and BOOTSTRAP (bootstrap_count,
# stopping only, 0); ASSESSOR=hyperband puts Hyperband (brackets of stopping ASHA, with
# MIN_RESOURCE and ETA) in ASHA's place. SEEDS lists the tuner seeds ("0 1 2 3 4"); HARNESS
# overrides the binary.
# The random results are kept in WORKDIR and reused, so several TPE settings can be compared
# against the same baseline (use a fresh WORKDIR after changing the harness: old baselines
# would be compared with new trials).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
harness="${HARNESS:-$root/target/release/harness}"
work="${1:-$(mktemp -d)}"
trials="${TRIALS:-20}" startup="${STARTUP:-6}" min_resource="${MIN_RESOURCE:-1}" eta="${ETA:-3}"
bootstrap="${BOOTSTRAP:-0}" type="${TYPE:-stopping}" assessor="${ASSESSOR:-asha}"
seeds="${SEEDS:-0 1 2 3 4}" tpe_options="${TPE_OPTIONS:-}" budget="${BUDGET:-}"
offset=1000 # random's tuner seed is offset + s (see above)
mkdir -p "$work"
cp "$root/suites/quick_search_space.json" "$work/"
python3 - "$root/suites/quick.toml" "$work" "$trials" "$startup" "$min_resource" "$eta" "$bootstrap" "$type" "$seeds" "$tpe_options" "$budget" "$offset" "$assessor" <<'PY'
import re, sys
src, work, trials, startup, min_resource, eta, bootstrap, kind, seeds, tpe_options, budget, offset, early = sys.argv[1:]
s = open(src).read()
head = s[:s.index("# In the spirit of the lab")]
tuned = s[s.index("[arms.tuned]"):s.index("# Architecture search")]
def variant(tuner, options, assessor, trials, seed, budget=""):
    t = re.sub(r'(?m)^tuner = .*$', f'tuner = "{tuner}"', tuned)
    t = re.sub(r'(?m)^tuner_options = .*$', f"tuner_options = {options}", t)
    if assessor == "none":
        t = re.sub(r'(?m)^assessor = .*$', 'assessor = "none"', t)
        t = re.sub(r'(?m)^assessor_options = .*$', "", t)
    elif assessor == "hyperband":
        t = re.sub(r'(?m)^assessor = .*$', 'assessor = "hyperband"', t)
        t = re.sub(r'(?m)^assessor_options = .*$',
                   f"assessor_options = {{ min_resource = {min_resource}, reduction_factor = {eta} }}", t)
    else:
        extra = f", bootstrap_count = {bootstrap}" if kind == "stopping" else ""
        t = re.sub(r'(?m)^assessor_options = .*$',
                   f'assessor_options = {{ type = "{kind}", min_resource = {min_resource}, '
                   f"reduction_factor = {eta}{extra} }}", t)
    t = re.sub(r'(?m)^trial_epochs = .*$', "trial_epochs = 15", t)
    limit = f"max_trials = {trials}" + (f"\nmax_trial_epochs = {budget}" if budget else "")
    t = re.sub(r'(?m)^max_trials = .*$', limit, t)
    t = re.sub(r'(?m)^retrain_top_k = .*$', "retrain_top_k = 0", t)
    t = re.sub(r'(?m)^tuner_seed = .*$', f"tuner_seed = {seed}", t)
    return head + t
extra = f", {tpe_options}" if tpe_options else ""
for seed in map(int, seeds.split()):
    random = int(offset) + seed
    open(f"{work}/random-{random}.toml", "w").write(variant("random", "{}", "none", 20, random))
    open(f"{work}/tpe-{seed}.toml", "w").write(
        variant("tpe", f"{{ n_startup_trials = {startup}{extra} }}", early, int(trials), seed, budget))
PY
cd "$work"
if [ "$assessor" = hyperband ]; then early="Hyperband" setting="Hyperband"
else early="ASHA" setting="ASHA ($type)"; fi
echo "TPE + $setting: $trials trials, n_startup_trials $startup${tpe_options:+, $tpe_options}, min_resource $min_resource, eta $eta, bootstrap_count $bootstrap${budget:+, max_trial_epochs $budget}; tuner seeds $seeds (random: $offset + each)"
summary() {
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
arm = next(a for a in d["arms"] if a["name"] == "tuned")
h = arm["hpo"]
full = [t["final_metric"] for t in h["trials"] if t["status"] == "SUCCEEDED" and t["final_metric"] is not None]
# The chosen configuration retrained at the full budget: the tuned arm's reported accuracy
# (0 for an arm that failed before retraining, like the search score).
retrained = (arm.get("summary") or {}).get("mean") or 0.0
print(f"{max(full, default=0.0):.6f} {h['search_cost']['trial_epochs']} {len(h['trials'])} {h['search_cost']['seconds']:.1f} {retrained:.6f}")
PY
}
matched=0 within=0 both=0 sums=""
n=0
for seed in $seeds; do
  n=$((n + 1))
  random=$((offset + seed))
  if ! ls "res-random-$random"/*.json > /dev/null 2>&1; then
    "$harness" run "random-$random.toml" --quiet --results-dir "res-random-$random" > /dev/null
  fi
  rm -rf "res-tpe-$seed"
  # `|| true`: an arm that fails still writes its result file (scored 0 without a full-budget trial).
  "$harness" run "tpe-$seed.toml" --quiet --results-dir "res-tpe-$seed" > /dev/null || true
  read -r r_best r_epochs _ _ r_test <<< "$(summary res-random-$random/*.json)"
  read -r t_best t_epochs t_trials t_secs t_test <<< "$(summary res-tpe-$seed/*.json)"
  verdict=$(python3 -c "print('reached' if $t_best >= $r_best - 1e-9 else 'short')")
  cheap=$(python3 -c "print('yes' if $t_epochs <= 0.35 * $r_epochs else 'no')")
  [ "$verdict" = reached ] && matched=$((matched + 1))
  [ "$cheap" = yes ] && within=$((within + 1))
  [ "$verdict" = reached ] && [ "$cheap" = yes ] && both=$((both + 1))
  sums="$sums $r_best $t_best $r_epochs $t_epochs $r_test $t_test"
  printf "seed %s: random best %.4f (%s trial-epochs); TPE+$early best %.4f with %s trial-epochs (%s%%), %s trials, %s s: %s; retrained, test split: random %.4f, TPE %.4f\n" \
    "$seed" "$r_best" "$r_epochs" "$t_best" "$t_epochs" \
    "$(python3 -c "print(round(100 * $t_epochs / $r_epochs))")" "$t_trials" "$t_secs" "$verdict" "$r_test" "$t_test"
done
echo "reached random's best in $matched/$n tuner seeds; within 35 % of its trial-epochs in $within/$n; both in $both/$n"
# The means over the seeds, and the reference point for "TPE+ASHA reached random's best on k
# of n seeds": how often would a random search with the same 35 % (7 full-budget trials, drawn
# independently of the 20) get there? Estimated from the pooled random trials of these seeds.
python3 - "$seeds" "$offset" "TPE+$early" $sums <<'PY'
import glob, json, sys
offset = int(sys.argv[2])
label = sys.argv[3]
v = [float(x) for x in sys.argv[4:]]
r, t, re, te, rtest, ttest = (v[i::6] for i in range(6))
n = len(r)
print(f"means over the seeds: random best {sum(r)/n:.4f}, {label} best {sum(t)/n:.4f}, "
      f"trial-epochs {sum(te)/n:.1f} of {sum(re)/n:.0f} ({100*sum(te)/sum(re):.0f} %)")
def finals(seed):
    d = json.load(open(glob.glob(f"res-random-{offset + int(seed)}/*.json")[0]))
    h = next(a for a in d["arms"] if a["name"] == "tuned")["hpo"]
    return [t["final_metric"] for t in h["trials"] if t["status"] == "SUCCEEDED"]
runs = [finals(s) for s in sys.argv[1].split()]
pool = [x for f in runs for x in f]
k = int(0.35 * 20)
p = sum(1 - (sum(x < max(f) - 1e-9 for x in pool) / len(pool)) ** k for f in runs) / len(runs)
print(f"control: random search with {k} full-budget trials (35 %) reaches random's best with "
      f"probability {p:.2f} per seed (estimated from the {len(pool)} random trials above)")
# What a user gets from each search: its chosen configuration retrained at the full budget
# over the suite's seeds, scored on the test split. Paired over tuner seeds, t interval.
d = [b - a for a, b in zip(rtest, ttest)]
mean = sum(d) / n
line = (f"retrained chosen configurations (test split): random {sum(rtest)/n:.4f}, "
        f"{label} {sum(ttest)/n:.4f}; TPE - random {mean:+.4f}")
if n > 1:
    # Two-sided 95 % Student t quantiles for 1..30 degrees of freedom, then the normal one.
    tq = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
          2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
          2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    q = tq[n - 2] if n - 1 <= len(tq) else 1.960
    se = (sum((x - mean) ** 2 for x in d) / (n - 1) / n) ** 0.5
    line += f" (95 % CI {mean - q * se:+.4f} to {mean + q * se:+.4f})"
print(line + f"; TPE's at least random's on {sum(x >= -1e-9 for x in d)}/{n} seeds")
PY
