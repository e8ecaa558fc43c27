#!/usr/bin/env bash
# A scratch virtual environment with the reference implementations harness's HPO parts follow:
# nni 3.0 with its Anneal extra (hyperopt 0.1.2, which needs numpy < 2), Optuna, and SciPy for
# the KS tests. Usage: scripts/compare-reference/setup.sh [VENV] (default /tmp/compare-venv).
set -euo pipefail
venv="${1:-/tmp/compare-venv}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "nni[anneal]==3.0" "numpy<2" optuna scipy
echo "ready: $venv/bin/python scripts/compare-reference/compare.py --help"
