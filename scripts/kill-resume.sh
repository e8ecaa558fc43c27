#!/usr/bin/env bash
# Crash-safety check: runs a suite once without interruption, then again with SIGKILL at
# KILLS random moments, resuming (`harness run --resume`) after each kill. After every kill,
# every file in the results folder must be complete (result JSON parses, every checkpoint is
# an intact zip archive); at the end, every per-epoch number of the resumed result must equal
# the uninterrupted run's.
#
#   scripts/kill-resume.sh [SUITE] [KILLS] [MAX_DELAY_S]     (defaults: suites/quick.toml 20 8)
set -euo pipefail
suite=${1:-suites/quick.toml}
kills=${2:-20}
max_delay=${3:-8}
cd "$(dirname "$0")/.."
cargo build --release -q -p harness
bin=target/release/harness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

t0=$(date +%s)
"$bin" run "$suite" --results-dir "$work/plain" --quiet > "$work/plain.out"
echo "uninterrupted run: $(( $(date +%s) - t0 )) s"

check_files() {
  python3 - "$1" <<'EOF'
import json, pathlib, sys, zipfile
bad = []
for p in pathlib.Path(sys.argv[1]).rglob("*"):
    if not p.is_file() or p.name.startswith(".") or p.name == "lock":
        continue
    try:
        if p.suffix == ".json":
            json.loads(p.read_text())
        elif p.suffix == ".ckpt":
            with zipfile.ZipFile(p) as z:
                if z.testzip() is not None:
                    raise ValueError("bad CRC")
    except Exception as e:  # noqa: BLE001
        bad.append(f"{p}: {e}")
if bad:
    sys.exit("incomplete files:\n" + "\n".join(bad))
EOF
}

t0=$(date +%s)
landed=0
for i in $(seq 1 "$kills"); do
  args=(run "$suite" --results-dir "$work/killed" --quiet)
  [ "$i" -gt 1 ] && args+=(--resume)
  "$bin" "${args[@]}" > /dev/null 2>&1 &
  pid=$!
  delay=$(python3 -c "import random; print(round(random.uniform(1, $max_delay), 2))")
  sleep "$delay"
  if kill -9 "$pid" 2> /dev/null; then
    landed=$((landed + 1))
    wait "$pid" 2> /dev/null || true
    echo "kill $i after ${delay} s"
  else
    wait "$pid" 2> /dev/null || true
    echo "kill $i: the run had already finished"
  fi
  check_files "$work/killed"
done
"$bin" run "$suite" --results-dir "$work/killed" --quiet --resume > /dev/null 2>&1 || {
  # The last resume may find nothing left if the suite completed before a kill.
  ls "$work"/killed/*.resume > /dev/null 2>&1 && exit 1
}
echo "killed $landed times and resumed: $(( $(date +%s) - t0 )) s"
check_files "$work/killed"

python3 - "$work/plain" "$work/killed" <<'EOF'
import json, pathlib, sys

def numbers(folder):
    [path] = [p for p in pathlib.Path(folder).glob("*.json")]
    r = json.loads(path.read_text())
    assert r["status"] == "complete", (path, r["status"])
    out = []
    for arm in r["arms"]:
        for run in arm["runs"]:
            out.append((arm["name"], run["seed"], [e["test_acc"] for e in run["epochs"]]))
        if arm.get("hpo"):
            for t in arm["hpo"]["trials"]:
                out.append(("trial", t["id"], t["status"], t["params"], t["intermediate"]))
            out.append(("chosen", arm["hpo"]["chosen_params"]))
        if arm.get("nas"):
            n = arm["nas"]
            out.append(("search", [e["arch_acc"] for e in n["search_epochs"]]))
            out.append(("architecture", n["architecture"]))
            for run in n["random_runs"]:
                out.append(("random", run["seed"], [e["test_acc"] for e in run["epochs"]]))
    return out, r.get("resumed_at", [])

plain, _ = numbers(sys.argv[1])
killed, resumed = numbers(sys.argv[2])
epochs = sum(len(x[2]) for x in plain if len(x) == 3 and isinstance(x[2], list))
if plain != killed:
    for a, b in zip(plain, killed):
        if a != b:
            print("differs:", a, b)
    sys.exit("FAIL: the resumed result differs from the uninterrupted one")
print(f"OK: {len(plain)} runs/trials/records equal ({epochs} per-epoch test accuracies), "
      f"resumed {len(resumed)} times, no incomplete file after any kill")
EOF
