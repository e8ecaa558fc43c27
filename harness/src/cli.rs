//! The command line. Thin: parses arguments and calls the library.
//!
//! Exit codes: 0 success; 1 the work failed (a run error, an interrupted run); 2 usage or input
//! error (bad arguments, malformed files).
use crate::env::EnvRecord;
use crate::report::{self, i18n::Lang};
use crate::results::{self, ResultFile};
use crate::suite::runner::{self, RunOptions};
use crate::suite::LoadedSuite;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Reproducibility benchmarking harness: record the machine, run fixed training suites \
             (original / manual / HPO / NAS arms) in libtorch, store JSON results, render \
             lab-style markdown reports."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print this machine's hardware and software record (CPU, memory, cgroup CPU quota and
    /// memory limit, GPUs via NVML, OS, libtorch/CUDA/cuDNN, threads, determinism flags), each
    /// with how it was obtained.
    Env {
        /// Name of this machine in reports (default: the hostname).
        #[arg(long)]
        label: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run a suite (TOML) and write one result file (JSON) under the results folder.
    Run {
        /// The suite file, e.g. suites/quick.toml.
        suite: PathBuf,
        /// Name of this machine in reports (default: the hostname).
        #[arg(long)]
        label: Option<String>,
        /// Folder for result files (created if missing).
        #[arg(long, default_value = "results")]
        results_dir: PathBuf,
        /// Also render a markdown report (English) to this file (plots beside it); checked
        /// before the run starts: an existing file is replaced only if it is an earlier report.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Override every arm's epoch count (a shorter run); recorded in the result and report.
        #[arg(long)]
        epochs: Option<usize>,
        /// Override the suite's seeds, e.g. --seeds 11,12,13; recorded.
        #[arg(long, value_delimiter = ',')]
        seeds: Option<Vec<u64>>,
        /// libtorch intra-op threads (overrides the suite's `threads`); recorded.
        #[arg(long)]
        threads: Option<i32>,
        /// Device: auto, cpu, cuda, cuda:N or mps.
        #[arg(long, default_value = "auto")]
        device: String,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
        /// Read the dataset's files (cifar10) from this folder instead of the suite's
        /// `dataset.dir`; recorded.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Continue an interrupted or killed run of this suite: its result file (default: the
        /// newest unfinished one of this suite in --results-dir). Finished runs and trials are
        /// kept as they are; the run in progress continues from its last epoch checkpoint.
        /// Give the same --epochs/--seeds/--threads/--data-dir as the first time.
        #[arg(long, value_name = "RESULT", num_args = 0..=1)]
        resume: Option<Option<PathBuf>>,
        /// Write the checkpoint of the run in progress every N epochs (it is removed when
        /// the run finishes).
        #[arg(long, value_name = "N", default_value_t = 1)]
        checkpoint_every: usize,
    },
    /// Search spaces in NNI's JSON format.
    Space {
        #[command(subcommand)]
        command: SpaceCommand,
    },
    /// Render a markdown report (with SVG plots next to it) from one or more result files,
    /// e.g. files copied off several machines: one environment column per machine.
    Report {
        /// Result files (JSON).
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Output markdown file (default: reports/<suite>.md); an existing file is replaced only
        /// if it is an earlier report.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Language of headings and row names.
        #[arg(long, value_enum, default_value = "en")]
        lang: Lang,
    },
    /// Compare result files of the same suite from several machines: the environment fields
    /// that differ, then per arm each machine's accuracy, the difference to the first file
    /// (the baseline) with a 95% confidence interval, and speed ratios.
    Compare {
        /// Result files (JSON); the first is the baseline.
        #[arg(required = true, num_args = 2..)]
        results: Vec<PathBuf>,
        /// Print JSON instead of markdown.
        #[arg(long)]
        json: bool,
    },
    /// Regression gate for CI: per arm, pass / fail / inconclusive of NEW against the baseline
    /// (see docs/regression-gate.md). Exit 0 pass or inconclusive, 1 regression (or
    /// inconclusive with --strict), 2 usage or input error (including an unfinished result:
    /// finish it with `harness run SUITE --resume FILE`).
    Check {
        /// The baseline result file.
        #[arg(long)]
        baseline: PathBuf,
        /// The candidate result file.
        candidate: PathBuf,
        /// Significance level of the one-sided tests, in [0.000001, 0.5).
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Treat inconclusive as failure (exit 1).
        #[arg(long)]
        strict: bool,
        /// Fail (exit 1) unless the per-epoch curves reproduce exactly.
        #[arg(long)]
        require_exact: bool,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    // --- CIFAR-10 and the model zoo (issue 5) ---
    /// Download a dataset: `harness data cifar10` fetches the official binary archive, checks
    /// its MD5 and extracts it (nothing happens when valid files are already there).
    Data {
        /// The dataset (only cifar10 needs downloading).
        #[arg(value_parser = ["cifar10"])]
        dataset: String,
        /// Target folder.
        #[arg(long, default_value = crate::data::DEFAULT_CIFAR10_DIR)]
        dir: PathBuf,
        /// Where to fetch the archive from: the official URL, or a mirror of the same file (its
        /// MD5 is checked all the same).
        #[arg(long, default_value = crate::data::cifar10::URL)]
        url: String,
    },
    /// List every model with its trainable parameter count in each style.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Classifier width for the zoo models (1000 = torchvision's head, as the lab uses).
        #[arg(long, default_value_t = 1000)]
        classes: i64,
    },
    /// Training throughput of a zoo model on random 3×32×32 data (SGD steps; warm-up steps
    /// excluded from the timing). On the CPU, a configuration whose training step is estimated
    /// not to fit in the machine's memory (or the process's cgroup limit) is refused before it
    /// is allocated.
    Bench {
        /// Model name (`harness models` lists them).
        #[arg(long, default_value = "resnet18")]
        model: String,
        /// imagenet or cifar.
        #[arg(long, default_value = "imagenet")]
        style: String,
        /// Images per step.
        #[arg(long, default_value_t = 128)]
        batch: i64,
        /// Device: auto, cpu, cuda, cuda:N or mps.
        #[arg(long, default_value = "auto")]
        device: String,
        /// Timed steps.
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Untimed warm-up steps.
        #[arg(long, default_value_t = 2)]
        warmup: usize,
        /// Classifier width (1000 = the lab's head).
        #[arg(long, default_value_t = 1000)]
        classes: i64,
        /// Intra-op CPU threads, 1 to 1024 (default: libtorch's choice).
        #[arg(long)]
        threads: Option<i32>,
        /// Channels-last (NHWC) inputs and weights.
        #[arg(long)]
        channels_last: bool,
        /// Print JSON instead of a line of text.
        #[arg(long)]
        json: bool,
    },
    // --- nas: DARTS architecture files -------------------------------------------------
    /// DARTS architecture files (NNI's exported JSON).
    Arch {
        #[command(subcommand)]
        command: ArchCommand,
    },
    // --- end nas -------------------------------------------------------------------------
}

#[derive(Subcommand)]
enum SpaceCommand {
    /// Validate a search space (and that a trial can set every parameter) and print N samples
    /// as JSON lines (fewer if the space has fewer distinct configurations); the same seed
    /// prints the same samples.
    Sample {
        /// NNI search_space.json
        file: PathBuf,
        /// Number of samples to print.
        #[arg(long, default_value_t = 5)]
        n: usize,
        /// Seed of the draws: --seed S prints exactly the proposals of tuner = "random" with
        /// tuner_seed = S, in trial order.
        #[arg(long, value_name = "S", default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ArchCommand {
    /// Validate an NNI architecture file (op indices or op names), print both cells and the
    /// parameter count of the network it defines (auxiliary head excluded).
    Show {
        /// The architecture file, e.g. results/quick-nas/epoch_3.json.
        file: PathBuf,
        /// Number of cells (at least 3: two of them are reduction cells).
        #[arg(long, default_value_t = 20)]
        layers: usize,
        /// Channels C of the first cells.
        #[arg(long, default_value_t = 36)]
        channels: i64,
        /// Number of classes.
        #[arg(long, default_value_t = 10)]
        classes: i64,
        /// Channels of the input images (3 for CIFAR-10's colour, 1 for the grey digits).
        #[arg(long, default_value_t = 3)]
        input_channels: i64,
    },
}

/// A failure and the exit code it maps to.
pub struct Failure {
    pub code: i32,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error = e.into();
        // Bad input anywhere in the chain (a missing dataset may come wrapped in context).
        let input_error = error.chain().any(|cause| {
            cause.is::<crate::suite::SuiteError>()
                // Writing the result is the work (a full disk is not bad input).
                || cause
                    .downcast_ref::<results::ResultError>()
                    .is_some_and(|e| !matches!(e, results::ResultError::Write { .. }))
                || cause.is::<crate::data::DataError>()
                || cause.is::<crate::data::cifar10::DataError>()
                || cause.is::<crate::suite::journal::Locked>()
                || cause.is::<crate::checkpoint::CorruptResumeState>()
                || cause.is::<UsageError>()
        });
        Failure {
            code: if input_error { 2 } else { 1 },
            error,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    crate::panics::install_hook();
    let outcome = std::panic::catch_unwind(|| dispatch(cli.command))
        .unwrap_or_else(|p| Err(anyhow::anyhow!("{}", crate::panics::message(p.as_ref())).into()));
    match outcome {
        Ok(()) => match STDOUT_ERROR
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            None => 0,
            Some(e) => {
                eprintln!("error: cannot write to standard output: {e}");
                1
            }
        },
        Err(f) => {
            eprintln!("error: {}", crate::error_text::shown(&f.error));
            f.code
        }
    }
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Env { label, json } => {
            check_label(label.as_deref())?;
            let env = EnvRecord::capture(label.as_deref());
            if json {
                say(&serde_json::to_string_pretty(&env)?);
            } else {
                say(&env_table(&env));
                say(ENV_IS_THIS_PROCESS);
            }
            Ok(())
        }
        Command::Run {
            suite,
            label,
            results_dir,
            report,
            epochs,
            seeds,
            threads,
            device,
            quiet,
            data_dir,
            resume,
            checkpoint_every,
        } => {
            check_label(label.as_deref())?;
            let mut loaded = LoadedSuite::load(&suite)?;
            if let Some(note) = loaded.search_space.as_ref().and_then(|s| s.ignored_note()) {
                eprintln!("note: {note}");
            }
            // Before hours of training, not after.
            if let Some(out) = &report {
                use report::output::Input;
                let mut inputs = vec![Input::new(&suite, "the suite file being run")];
                inputs.extend(loaded.inputs.iter().map(|i| {
                    Input::new(&i.path, format!("the file the suite names in {}", i.key))
                }));
                inputs.extend(
                    resume
                        .iter()
                        .flatten()
                        .map(|p| Input::new(p, "the result file being resumed")),
                );
                // The plots' names depend on the result (label, arms): what could be one is checked.
                let plots = report::output::possible_plots(out);
                report::output::check_output(out, &inputs, &plots)
                    .map_err(|e| UsageError(format!("--report {e}")))?;
            }
            // Resuming a named result writes to it, not into the results folder.
            if !matches!(resume, Some(Some(_))) {
                check_results_dir(&results_dir)?;
            }
            if let Some(dir) = data_dir {
                loaded
                    .override_data_dir(&dir.display().to_string())
                    .map_err(|e| UsageError(format!("--data-dir: {e}")))?;
            }
            if let Some(e) = epochs {
                loaded
                    .override_epochs(e)
                    .map_err(|m| UsageError(format!("--epochs {m}")))?;
                if let Some(note) = loaded.idle_assessor_note() {
                    eprintln!("note: {note}");
                }
            }
            if let Some(s) = seeds {
                if let Some(dup) = crate::suite::repeated_seed(&s) {
                    return Err(UsageError(format!("--seeds: seed {dup} is listed twice")).into());
                }
                loaded.override_seeds(s);
            }
            if let Some(t) = threads {
                if !(1..=1024).contains(&t) {
                    return Err(UsageError("--threads must be in [1, 1024]".into()).into());
                }
                loaded.override_threads(t);
            }
            if checkpoint_every == 0 {
                return Err(UsageError("--checkpoint-every must be at least 1".into()).into());
            }
            let resume = match resume {
                None => None,
                Some(None) => Some(
                    runner::latest_unfinished(&results_dir, &loaded)
                        .map_err(|e| UsageError(e.to_string()))?,
                ),
                Some(Some(p)) => Some(p),
            };
            if let Some(path) = &resume {
                runner::check_resumable(&loaded, path)
                    .map_err(|e| UsageError(crate::error_text::shown(&e)))?;
            }
            let device = parse_device(&device)?;
            let stop = install_stop_flag();
            let options = RunOptions {
                label,
                results_dir,
                device,
                quiet,
                resume,
                checkpoint_every,
            };
            let summary = runner::run_suite(&loaded, &options, &stop)?;
            say(&format!("result: {}", summary.path.display()));
            if let Some(out) = report {
                let path = write_report(std::slice::from_ref(&summary.result), &out, Lang::En)?;
                say(&format!("report: {}", path.display()));
            }
            let failed_arms = summary.result.failed_arms();
            if !failed_arms.is_empty() {
                return Err(anyhow::anyhow!(
                    "the suite ran to the end, but {} arm(s) failed (recorded in the result \
                     file):\n  {}",
                    failed_arms.len(),
                    failed_arms.join("\n  ")
                )
                .into());
            }
            Ok(())
        }
        Command::Space {
            command: SpaceCommand::Sample { file, n, seed },
        } => {
            let space =
                crate::hpo::SearchSpace::load(&file).map_err(|e| UsageError(e.to_string()))?;
            space
                .check_params(&crate::suite::tuned::recipe_param_specs())
                .map_err(|e| UsageError(e.to_string()))?;
            if let Some(note) = space.ignored_note() {
                eprintln!("note: {note}");
            }
            // The random tuner itself, so that --seed S is tuner_seed = S, repeats removed.
            use crate::hpo::Tuner;
            let mut tuner = crate::hpo::RandomTuner::new(space, seed);
            for i in 0..n {
                let Some(params) = tuner.propose(i) else {
                    eprintln!(
                        "note: the space has only {i} distinct configuration{}: the random \
                         tuner proposes each once, then ends the search (tuner_exhausted)",
                        if i == 1 { "" } else { "s" }
                    );
                    break;
                };
                // Stop when the output is gone (`| head -1`): --n may be huge.
                if !say(&serde_json::Value::Object(params).to_string()) {
                    break;
                }
            }
            Ok(())
        }
        Command::Report {
            results,
            output,
            lang,
        } => {
            let files: Vec<ResultFile> = results
                .iter()
                .map(|p| results::read_result(p))
                .collect::<Result<_, _>>()?;
            let out = output.unwrap_or_else(|| {
                PathBuf::from("reports").join(format!("{}.md", runner::slug(&files[0].suite.name)))
            });
            let (dir, stem) = report::output::plot_place(&out);
            let plots = report::plot_paths(&files, dir, &stem);
            let inputs = report::output::Input::results(&results);
            report::output::check_output(&out, &inputs, &plots)
                .map_err(|e| UsageError(e.to_string()))?;
            // The report's own warning names no file (it may be read elsewhere): here the
            // command to paste names the file given.
            warn_unfinished(&results, &files, "reported");
            let path = write_report(&files, &out, lang)?;
            say(&format!("report: {}", path.display()));
            Ok(())
        }
        Command::Compare { results, json } => {
            let files: Vec<ResultFile> = results
                .iter()
                .map(|p| results::read_result(p))
                .collect::<Result<_, _>>()?;
            // On stderr as well: the markdown's warning can scroll by or go to a file.
            warn_unfinished(&results, &files, "compared");
            let c =
                report::compare::compare(&files, 0.95).map_err(|e| UsageError(e.to_string()))?;
            if json {
                say(&serde_json::to_string_pretty(&c)?);
            } else {
                say(&report::compare::render_markdown(&c, 1, Lang::En));
            }
            Ok(())
        }
        Command::Check {
            baseline,
            candidate,
            alpha,
            strict,
            require_exact,
            json,
        } => {
            use report::check;
            let base = results::read_complete_result(&baseline)?;
            let cand = results::read_complete_result(&candidate)?;
            let options = check::CheckOptions {
                alpha,
                strict,
                require_exact,
            };
            let r = check::check(&base, &cand, options).map_err(|e| UsageError(e.to_string()))?;
            say(&if json {
                check::render_json(&r)
            } else {
                check::render_text(&r)
            });
            match r.exit_code {
                0 => Ok(()),
                code => Err(Failure {
                    code,
                    error: anyhow::anyhow!("{}", check::overall_line(&r)),
                }),
            }
        }
        // --- CIFAR-10 and the model zoo (issue 5) ---
        Command::Data {
            dataset: _,
            dir,
            url,
        } => {
            use crate::data::cifar10::{self, DataError, DownloadOutcome};
            if let Err(why) = cifar10::check_files(&dir) {
                match why {
                    DataError::NotADir(_) => {
                        return Err(UsageError(format!(
                            "--dir {}: is a file, not a folder",
                            dir.display()
                        ))
                        .into())
                    }
                    DataError::MissingDir(_) => {}
                    // Say what is wrong with the files there: offline, the download fails next.
                    _ => eprintln!("cifar10: no valid copy in {}: {why}", dir.display()),
                }
                say(&format!(
                    "downloading {url} (about 170 MB) into {}",
                    dir.display()
                ));
            }
            // A failed download, checksum or extraction is the work failing (exit 1), not bad
            // input, so the error keeps its message and drops its input-error type.
            let outcome = cifar10::download_from(&url, cifar10::ARCHIVE_MD5, &dir)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say(&match outcome {
                DownloadOutcome::AlreadyPresent(p) => {
                    format!("cifar10: already present in {}", p.display())
                }
                DownloadOutcome::Downloaded(p) => format!(
                    "cifar10: downloaded, md5 verified ({}), extracted into {}",
                    cifar10::ARCHIVE_MD5,
                    p.display()
                ),
            });
            Ok(())
        }
        Command::Models { json, classes } => {
            check_classes(classes)?;
            let rows = crate::models::catalogue(classes)?;
            if json {
                say(&serde_json::to_string_pretty(&rows)?);
            } else {
                say(&crate::models::catalogue_table(&rows, classes));
            }
            Ok(())
        }
        Command::Bench {
            model,
            style,
            batch,
            device,
            steps,
            warmup,
            classes,
            threads,
            channels_last,
            json,
        } => {
            let style = style
                .parse()
                .map_err(|e: crate::models::zoo::ZooError| UsageError(format!("--style: {e}")))?;
            if !crate::models::is_zoo(&model) {
                return Err(UsageError(format!(
                    "--model {model}: bench runs the zoo models: {}",
                    crate::models::zoo::MODEL_NAMES.join(", ")
                ))
                .into());
            }
            // Checked here so that they are usage errors (exit 2), not a failed benchmark.
            check_classes(classes)?;
            if !(1..=MAX_BATCH).contains(&batch) {
                return Err(UsageError(format!("--batch must be in [1, {MAX_BATCH}]")).into());
            }
            if steps == 0 {
                return Err(UsageError("--steps must be at least 1".into()).into());
            }
            // The same bound as `run --threads`: thousands of threads can hang the machine.
            if threads.is_some_and(|t| !(1..=1024).contains(&t)) {
                return Err(UsageError("--threads must be in [1, 1024]".into()).into());
            }
            let cfg = crate::bench::BenchConfig {
                model,
                style,
                num_classes: classes,
                batch,
                steps,
                warmup,
                device: parse_device(&device)?,
                channels_last,
                threads,
                ..Default::default()
            };
            // Refused before it is allocated: Linux grants a step too large for memory and
            // then kills the process, or the machine thrashes. The GPU's memory is not checked.
            if cfg.device == tch::Device::Cpu {
                let memory = crate::env::MemoryBudget::of_this_process();
                let estimate =
                    crate::models::memory::MemoryEstimate::of(&cfg.step(), memory.bytes)?;
                if let Some(problem) = crate::bench::memory_problem(&estimate, &cfg, memory) {
                    return Err(UsageError(problem).into());
                }
            }
            let r = crate::bench::bench_training(&cfg)?;
            if json {
                say(&serde_json::to_string_pretty(&r)?);
            } else {
                say(&format!(
                    "{} ({} style, {} parameters) on {}, batch {}, {} threads: {:.1} training images/s \
                     (step {:.3} s ± {:.3} s, min {:.3} s, max {:.3} s over {} steps after {} warm-up)",
                    r.model,
                    r.style,
                    r.param_count,
                    r.device,
                    r.batch,
                    r.threads,
                    r.images_per_sec,
                    r.step_mean_s,
                    r.step_std_s,
                    r.step_min_s,
                    r.step_max_s,
                    r.steps,
                    r.warmup
                ));
            }
            Ok(())
        }
        // --- nas ---
        Command::Arch {
            command:
                ArchCommand::Show {
                    file,
                    layers,
                    channels,
                    classes,
                    input_channels,
                },
        } => {
            // As in suites: reduction cells at 1/3 and 2/3 of the depth, the same bounds.
            crate::suite::nas::check_size(layers, channels)
                .map_err(|e| UsageError(format!("--{e}")))?;
            check_classes(classes)?;
            if !(1..=64).contains(&input_channels) {
                return Err(UsageError("--input-channels must be in [1, 64]".into()).into());
            }
            let text = std::fs::read_to_string(&file)
                .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
            let size = crate::nas::show::ShowSize {
                layers,
                channels,
                classes,
                input_channels,
            };
            let out = crate::nas::show::show(&text, &file.display().to_string(), size)
                .map_err(|e| UsageError(e.to_string()))?;
            say(out.trim_end());
            Ok(())
        } // --- end nas ---
    }
}

/// Largest `--classes` of `models`, `bench` and `arch show` (ImageNet-21k has 21,841): larger
/// only builds a classifier too large for memory.
const MAX_CLASSES: i64 = 100_000;
/// Largest `bench --batch`: 65,536 images of 3×32×32 are already 800 MB.
const MAX_BATCH: i64 = 65_536;

fn check_classes(classes: i64) -> Result<(), UsageError> {
    if (1..=MAX_CLASSES).contains(&classes) {
        Ok(())
    } else {
        Err(UsageError(format!(
            "--classes must be in [1, {MAX_CLASSES}], got {classes}"
        )))
    }
}

/// A results folder that is a file, or lies under one, is bad input: said before anything runs,
/// not as a result file that cannot be written (exit 1).
fn check_results_dir(dir: &Path) -> Result<(), UsageError> {
    let Some(blocker) = crate::fsutil::non_folder_in(dir) else {
        return Ok(());
    };
    let why = if blocker == dir {
        "is not a folder".to_string()
    } else {
        format!(
            "{} is not a folder, so nothing can be written under it",
            blocker.display()
        )
    };
    Err(UsageError(format!(
        "--results-dir {}: {why}",
        dir.display()
    )))
}

/// A label names the machine in reports and result file names; an empty one would leave a
/// nameless column and a file name like `suite--<time>.json`.
fn check_label(label: Option<&str>) -> Result<(), UsageError> {
    let Some(label) = label else {
        return Ok(());
    };
    let Some(why) = crate::env::label_problem(label) else {
        return Ok(());
    };
    let hint = if label.trim().is_empty() {
        " (leave it out to use the hostname)"
    } else {
        ""
    };
    Err(UsageError(format!("--label {why}{hint}")))
}

/// A warning on stderr for each unfinished result file, with the command that finishes it.
fn warn_unfinished(paths: &[PathBuf], files: &[ResultFile], verb: &str) {
    for (path, f) in paths.iter().zip(files) {
        if let Some(why) = f.unfinished() {
            eprintln!(
                "warning: {}: unfinished result, {why}: only its finished runs are {verb}; \
                 finish it with `{}`",
                path.display(),
                f.resume_command(&path.display().to_string())
            );
        }
    }
}

fn write_report(files: &[ResultFile], out: &Path, lang: Lang) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let (dir, stem) = report::output::plot_place(out);
    let rendered = report::render(files, lang, dir, &stem)?;
    crate::fsutil::write_atomic(out, rendered.markdown.as_bytes())
        .with_context(|| format!("{}: cannot write the report", out.display()))?;
    Ok(out.to_path_buf())
}

fn env_table(env: &EnvRecord) -> String {
    let mut b = tabled::builder::Builder::default();
    b.push_record(["field", "value", "source"]);
    for (k, v, s) in env.rows() {
        b.push_record([k, v, s]);
    }
    let mut table = b.build();
    table.with(tabled::settings::Style::rounded());
    table.to_string()
}

/// Under `harness env`'s table: a report's environment table wants what the runs had, which a
/// suite run sets (a student copying `deterministic algorithms false` from here would be wrong).
const ENV_IS_THIS_PROCESS: &str = "These are this process's settings. `harness run` switches \
deterministic algorithms (and deterministic cuDNN) on for every run and sets the intra-op threads \
to the suite's `threads` (or --threads) where given; each result file records the values its \
runs had, and `harness report` shows those.";

/// The first failure to write to stdout: the command's output is lost (a full disk under
/// `> env.json`), so it exits 1 even when its work succeeded.
static STDOUT_ERROR: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

/// Prints a line to stdout; a closed pipe (`harness env --json | head`) is not an error, any
/// other failure is noted in [`STDOUT_ERROR`]. Returns whether the line was written, so that a
/// command printing many stops at the first failure.
fn say(text: &str) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                STDOUT_ERROR
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
            }
            false
        }
    }
}

/// auto = CUDA if libtorch can use it, else CPU; an explicit device that is not there is an
/// error rather than a silent fallback.
pub fn parse_device(text: &str) -> Result<tch::Device, UsageError> {
    let cuda_count = tch::Cuda::device_count();
    match text {
        "auto" => Ok(tch::Device::cuda_if_available()),
        "cpu" => Ok(tch::Device::Cpu),
        "mps" => {
            if tch::utils::has_mps() {
                Ok(tch::Device::Mps)
            } else {
                Err(UsageError(
                    "--device mps: this libtorch has no usable MPS device".into(),
                ))
            }
        }
        _ => {
            let index = match text.strip_prefix("cuda") {
                Some("") => 0,
                Some(rest) => rest
                    .strip_prefix(':')
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| {
                        UsageError(format!(
                            "--device {text}: expected auto, cpu, cuda, cuda:N or mps"
                        ))
                    })?,
                None => {
                    return Err(UsageError(format!(
                        "--device {text}: expected auto, cpu, cuda, cuda:N or mps"
                    )))
                }
            };
            if (index as i64) < cuda_count {
                Ok(tch::Device::Cuda(index))
            } else if cuda_count == 0 {
                let why = if cfg!(feature = "cuda") {
                    "libtorch sees no CUDA device"
                } else {
                    "this binary is a CPU build (rebuild with `just setup cuda` and --features cuda)"
                };
                Err(UsageError(format!(
                    "--device {text}: CUDA is not available: {why}"
                )))
            } else {
                Err(UsageError(format!(
                    "--device {text}: no such device; libtorch sees {cuda_count} CUDA device(s) (cuda:0..cuda:{})",
                    cuda_count - 1
                )))
            }
        }
    }
}

/// A second signal this soon after the first is the same interrupt: `timeout` signals the
/// process and then its group, a terminal's Ctrl-C reaches every process of the job.
const SECOND_SIGNAL_AFTER_MS: u64 = 500;

/// Ctrl-C / SIGTERM set a flag that the runner checks after every epoch; a second one (at least
/// [`SECOND_SIGNAL_AFTER_MS`] later) exits at once with code 1, saying so.
fn install_stop_flag() -> Arc<AtomicBool> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let flag = Arc::new(AtomicBool::new(false));
    let first_ms = Arc::new(AtomicU64::new(0));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let (flag, first_ms) = (Arc::clone(&flag), Arc::clone(&first_ms));
        // SAFETY: the handler only uses atomics, clock_gettime, write and _exit, which are
        // async-signal-safe.
        let _ = unsafe {
            signal_hook::low_level::register(sig, move || {
                let now = monotonic_ms();
                if !flag.swap(true, Ordering::SeqCst) {
                    first_ms.store(now, Ordering::SeqCst);
                } else if now.saturating_sub(first_ms.load(Ordering::SeqCst))
                    >= SECOND_SIGNAL_AFTER_MS
                {
                    let message = b"harness: interrupted again: exiting now; the result file \
                        stays \"running\" and `harness run SUITE --resume` continues it\n";
                    libc::write(2, message.as_ptr().cast(), message.len());
                    libc::_exit(1);
                }
            })
        };
    }
    flag
}

/// Milliseconds on the monotonic clock (async-signal-safe).
fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bad input exits 2 wherever it sits in the error chain; a result file that cannot be
    /// written (a full disk) is the work failing: 1.
    #[test]
    fn exit_codes_separate_bad_input_from_failed_work() {
        let io = || std::io::Error::from_raw_os_error(libc::ENOSPC);
        let write = results::ResultError::Write {
            path: "r.json".into(),
            error: io(),
        };
        assert_eq!(Failure::from(write).code, 1);
        let read = results::ResultError::Read {
            path: "r.json".into(),
            error: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            Failure::from(anyhow::Error::from(read).context("report")).code,
            2
        );
        assert_eq!(Failure::from(UsageError("--seeds".into())).code, 2);
        let damaged = crate::checkpoint::CorruptResumeState {
            path: "r.resume/original.seed-2.ckpt".into(),
            problem: "not a readable checkpoint".into(),
            advice: "delete it and resume again".into(),
        };
        assert_eq!(
            Failure::from(anyhow::Error::from(damaged).context("tuned arm")).code,
            2
        );
        assert_eq!(Failure::from(anyhow::anyhow!("diverged")).code, 1);
    }
}
