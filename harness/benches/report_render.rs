//! Rendering a markdown report (tables, the accuracy plot and two learning-curve SVG plots per
//! file) from a synthetic result file of 4 arms × 3 seeds × 20 epochs, and the two-machine
//! comparison section.
//!
//! Run: `cargo bench -p harness --bench report_render -- --warm-up-time 1 --measurement-time 3`
use criterion::{criterion_group, criterion_main, Criterion};
use harness::report::{self, fixture, i18n::Lang};
use std::hint::black_box;

fn render(c: &mut Criterion) {
    let one = fixture::sized("bench-a", 4, 3, 20);
    let mut other = fixture::sized("bench-b", 4, 3, 20);
    other.environment.torch.intra_op_threads = harness::env::Fact::known(1, "bench");
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut group = c.benchmark_group("report");
    group.bench_function("render_1_file_4x3x20", |b| {
        b.iter(|| {
            report::render(std::slice::from_ref(&one), Lang::En, dir.path(), "bench")
                .expect("renders")
        })
    });
    let both = [one.clone(), other];
    group.bench_function("render_2_files_4x3x20", |b| {
        b.iter(|| report::render(&both, Lang::En, dir.path(), "bench2").expect("renders"))
    });
    group.bench_function("compare_2_files_4x3x20", |b| {
        b.iter(|| {
            let cmp = report::compare::compare(black_box(&both), 0.95).expect("compares");
            report::compare::render_markdown(&cmp, 2, Lang::En)
        })
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
