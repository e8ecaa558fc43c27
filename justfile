# harness — common tasks. `just run` and `just test` do all the set-up they need.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Run the default suite and render its report (same as `just run`).
default: run

# Fetch libtorch 2.11.0 from PyPI wheels into .libtorch/ (idempotent; `just setup cuda` for GPUs).
setup variant="cpu":
    bash scripts/setup-libtorch.sh {{variant}}

# Build, run suites/quick.toml on the embedded digits, write results/ and reports/quick.md.
run *ARGS: setup
    cargo build --release --quiet
    ./target/release/harness run suites/quick.toml --report reports/quick.md {{ARGS}}

# Run the test suite (cargo-nextest when installed, else cargo test).
test: setup
    if command -v cargo-nextest >/dev/null 2>&1; then cargo nextest run --workspace --no-fail-fast; else cargo test --workspace; fi

# Formatting and lints, as CI wants them.
lint: setup
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Render a report from result files: just report results/a.json results/b.json
report +FILES: setup
    cargo build --release --quiet
    ./target/release/harness report {{FILES}}

# Print this machine's environment record.
env: setup
    cargo build --release --quiet
    ./target/release/harness env

# Criterion benchmarks (release build): a training step of the default models, report rendering.
bench: setup
    cargo bench -p harness -- --warm-up-time 1 --measurement-time 3

# Settings by environment, e.g. TYPE=synchronous ETA=3 TRIALS=30 just hpo-efficiency /tmp/eff
# or BUDGET=105 TRIALS=100 TPE_OPTIONS="multivariate = true" SEEDS="0 1 2 3 4", or
# ASSESSOR=hyperband (Hyperband instead of ASHA; see the script)
# HPO efficiency (docs/hpo.md): TPE + ASHA vs 20 random full-budget trials, tuner seeds 0-4.
hpo-efficiency workdir="": setup
    cargo build --release --quiet
    bash scripts/hpo-efficiency.sh {{workdir}}

# cargo-fuzz targets (nightly; `cargo install cargo-fuzz`): suite_toml, search_space, arch_file,
# result_file. New inputs go to fuzz/corpus/<target>/, crashes to fuzz/artifacts/<target>/.
# Fuzz the file parsers, SECONDS per target: `just fuzz` (all four) or `just fuzz arch_file 60`.
fuzz target="all" seconds="300": setup
    command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2; exit 1; }
    targets="{{target}}"; \
    if [ "$targets" = all ]; then targets="suite_toml search_space arch_file result_file"; fi; \
    for t in $targets; do \
        echo "== fuzz $t for {{seconds}} s"; \
        (cd fuzz && cargo +nightly fuzz run "$t" -- -max_total_time={{seconds}} -rss_limit_mb=4096); \
    done
