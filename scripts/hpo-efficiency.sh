#!/usr/bin/env bash
# Measures issue #3's efficiency question on the quick suite's search space: over tuner seeds
# 0-4, does TPE with ASHA (16 trials, up to 15 epochs each) reach the best full-budget
# validation accuracy that 20 random full-budget trials (15 epochs each) reach, and with what
# share of their trial-epochs? Needs a release build (`cargo build --release`).
# Usage: scripts/hpo-efficiency.sh [WORKDIR]   (default: a new temporary folder)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
harness="$root/target/release/harness"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cp "$root/suites/quick_search_space.json" "$work/"
python3 - "$root/suites/quick.toml" "$work" <<'PY'
import sys
src, work = sys.argv[1], sys.argv[2]
s = open(src).read()
head = s[:s.index("# In the spirit of the lab")].replace("seeds = [1, 2, 3]", "seeds = [1]")
tuned = s[s.index("[arms.tuned]"):s.index("# Architecture search")]
def variant(tuner, options, assessor, trials, seed):
    t = tuned.replace('tuner = "tpe"', f'tuner = "{tuner}"')
    t = t.replace("tuner_options = { n_startup_trials = 6 }", f"tuner_options = {options}")
    if assessor == "none":
        t = t.replace('assessor = "asha"', 'assessor = "none"')
        t = t.replace("assessor_options = { min_resource = 2, reduction_factor = 3 }", "")
    t = t.replace("trial_epochs = 6", "trial_epochs = 15").replace("max_trials = 16", f"max_trials = {trials}")
    t = t.replace("retrain_top_k = 3", "retrain_top_k = 0").replace("tuner_seed = 0", f"tuner_seed = {seed}")
    return head + t
for seed in range(5):
    open(f"{work}/random-{seed}.toml", "w").write(variant("random", "{}", "none", 20, seed))
    open(f"{work}/tpe-{seed}.toml", "w").write(variant("tpe", "{ n_startup_trials = 6 }", "asha", 16, seed))
PY
cd "$work"
for seed in 0 1 2 3 4; do
  for kind in random tpe; do
    result=$("$harness" run "$kind-$seed.toml" --quiet --results-dir "res-$kind-$seed" | sed -n 's/^result: //p')
    python3 - "$result" "$kind" "$seed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
h = next(a for a in d["arms"] if a["name"] == "tuned")["hpo"]
full = [t["final_metric"] for t in h["trials"] if t["status"] == "SUCCEEDED" and t["final_metric"] is not None]
print(f"{sys.argv[2]:<6} tuner seed {sys.argv[3]}: best full-budget val_acc {max(full):.4f}, "
      f"trial-epochs {h['search_cost']['trial_epochs']}, trials {len(h['trials'])}, "
      f"{h['search_cost']['seconds']:.1f} s")
PY
  done
done
