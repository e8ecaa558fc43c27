//! One training step (forward, cross-entropy, backward, SGD step) of the default models on a
//! batch of the 8×8 digits, on the CPU.
//!
//! Run: `cargo bench -p harness --bench train_step -- --warm-up-time 1 --measurement-time 3`
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use harness::data::digits;
use harness::models;
use harness::train::Recipe;
use std::hint::black_box;
use tch::nn;

fn recipe(model: &str, batch: usize) -> Recipe {
    serde_json::from_value(serde_json::json!({
        "model": model, "optimizer": "sgd", "initial_lr": 0.1, "momentum": 0.9,
        "epochs": 1, "batch_size": batch
    }))
    .expect("a valid recipe")
}

fn train_step(c: &mut Criterion) {
    tch::manual_seed(0);
    let data = digits::load(0.2, 0).expect("the embedded digits load");
    let mut group = c.benchmark_group("train_step");
    for model in ["mlp", "cnn"] {
        for batch in [32usize, 128] {
            let r = recipe(model, batch);
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let net = models::build(&r, &vs.root(), data.info.image_shape, data.classes())
                .expect("the model builds");
            let mut opt = r.optimizer.build(
                vs.trainable_variables(),
                r.momentum,
                r.nesterov,
                r.weight_decay,
            );
            let x = data.train_x.narrow(0, 0, batch as i64);
            let y = data.train_y.narrow(0, 0, batch as i64);
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(BenchmarkId::new(model, batch), &batch, |b, _| {
                b.iter(|| {
                    let logits = net.forward_t(&x, true);
                    let loss = logits.cross_entropy_for_logits(&y);
                    opt.zero_grad();
                    loss.backward();
                    opt.step(r.initial_lr);
                    black_box(loss)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
