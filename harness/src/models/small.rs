//! Small models for 8×8 grey digits: a two-hidden-layer MLP and a three-conv CNN.
use tch::nn::{self, ModuleT};

pub const NAMES: [&str; 2] = ["mlp", "cnn"];

/// flatten → linear(width) → ReLU → dropout → linear(width) → ReLU → dropout → linear(classes)
pub fn mlp(p: &nn::Path, shape: [i64; 3], width: i64, dropout: f64, classes: i64) -> impl ModuleT {
    let inputs = shape.iter().product::<i64>();
    nn::seq_t()
        .add_fn(|x| x.flatten(1, -1))
        .add(nn::linear(p / "fc1", inputs, width, Default::default()))
        .add_fn(|x| x.relu())
        .add_fn_t(move |x, train| x.dropout(dropout, train))
        .add(nn::linear(p / "fc2", width, width, Default::default()))
        .add_fn(|x| x.relu())
        .add_fn_t(move |x, train| x.dropout(dropout, train))
        .add(nn::linear(p / "head", width, classes, Default::default()))
}

/// conv3×3(w)-BN-ReLU → conv3×3(2w)-BN-ReLU → max-pool 2 → conv3×3(2w)-BN-ReLU →
/// global average pool → dropout → linear(classes)
pub fn cnn(p: &nn::Path, shape: [i64; 3], width: i64, dropout: f64, classes: i64) -> impl ModuleT {
    let conv = |name: &str, c_in: i64, c_out: i64| {
        let cfg = nn::ConvConfig {
            padding: 1,
            bias: false,
            ..Default::default()
        };
        nn::seq_t()
            .add(nn::conv2d(p / name, c_in, c_out, 3, cfg))
            .add(nn::batch_norm2d(
                p / format!("{name}_bn"),
                c_out,
                Default::default(),
            ))
            .add_fn(|x| x.relu())
    };
    nn::seq_t()
        .add(conv("conv1", shape[0], width))
        .add(conv("conv2", width, 2 * width))
        .add_fn(|x| x.max_pool2d_default(2))
        .add(conv("conv3", 2 * width, 2 * width))
        .add_fn(|x| x.adaptive_avg_pool2d([1, 1]).flatten(1, -1))
        .add_fn_t(move |x, train| x.dropout(dropout, train))
        .add(nn::linear(
            p / "head",
            2 * width,
            classes,
            Default::default(),
        ))
}

/// Trainable parameters of `mlp` / `cnn` for these sizes, counted without building the model
/// (a width that would not fit in memory must be refused before it is allocated). Counted in
/// f64: a large width's count overflows no integer on the way.
pub fn parameters(name: &str, shape: [i64; 3], width: i64, classes: i64) -> Option<f64> {
    let [c, h, w] = shape.map(|v| v as f64);
    let (width, classes) = (width as f64, classes as f64);
    let linear = |i: f64, o: f64| i * o + o;
    // 3×3 convolution without bias, then batch norm's weight and bias.
    let conv_bn = |i: f64, o: f64| 9.0 * i * o + 2.0 * o;
    match name {
        "mlp" => Some(linear(c * h * w, width) + linear(width, width) + linear(width, classes)),
        "cnn" => Some(
            conv_bn(c, width)
                + conv_bn(width, 2.0 * width)
                + conv_bn(2.0 * width, 2.0 * width)
                + linear(2.0 * width, classes),
        ),
        _ => None,
    }
}
