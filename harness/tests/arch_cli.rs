//! `harness arch show` through the binary: the DARTS_V2 file at L=20 C=36 has 3.35M parameters
//! (auxiliary head excluded) and a bad file exits 2 naming the key.
use harness::nas::archfile::{export, OpFormat};
use harness::nas::genotype::Genotype;
use std::process::Command;

fn harness(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .output()
        .expect("harness runs")
}

#[test]
fn arch_show_darts_v2_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    for (fmt, name, label) in [
        (OpFormat::Index, "v2-index.json", "(op indices)"),
        (OpFormat::Name, "v2-name.json", "(op names)"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, export(&Genotype::darts_v2(), fmt)).unwrap();
        let out = harness(&[
            "arch",
            "show",
            path.to_str().unwrap(),
            "--layers",
            "20",
            "--channels",
            "36",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let params: f64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("parameters: "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("prints the parameter count");
        assert!((params - 3.3e6).abs() <= 0.1e6, "{params}");
        assert!(stdout.contains("normal cell") && stdout.contains("reduce cell"));
        assert!(stdout.contains("sepconv3x3(s0)"), "{stdout}");
        let first = format!("{}: valid DARTS architecture {label}\n", path.display());
        assert!(stdout.starts_with(&first), "{stdout}");
    }
}

#[test]
fn arch_show_counts_for_grey_inputs_as_the_digits_suites_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.json");
    std::fs::write(&path, export(&Genotype::darts_v2(), OpFormat::Index)).unwrap();
    let count = |extra: &[&str]| {
        let mut args = vec!["arch", "show", path.to_str().unwrap(), "--layers", "3"];
        args.extend_from_slice(&["--channels", "8"]);
        args.extend_from_slice(extra);
        let out = harness(&args);
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        stdout.lines().last().unwrap().to_string()
    };
    let grey = count(&["--input-channels", "1"]);
    let colour = count(&[]);
    assert!(
        grey.ends_with("; 3 cells, C=8, 10 classes, 1 input channel, auxiliary head excluded)"),
        "{grey}"
    );
    assert!(colour.contains("10 classes, 3 input channels"), "{colour}");
    // The stem's 3×3 convolution to 3·C channels has two input channels fewer to weigh.
    let n = |line: &str| -> i64 { line.split_whitespace().nth(1).unwrap().parse().unwrap() };
    assert_eq!(n(&colour) - n(&grey), 2 * 3 * 3 * 24);
}

#[test]
fn arch_show_says_when_indices_and_names_are_mixed() {
    // NNI's loader reads an index or a name per key, so the file is valid; the label must not
    // call it "op names" (or "op indices").
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.json");
    let text = export(&Genotype::darts_v2(), OpFormat::Index).replacen(
        "\"normal_n2_p1\": 3",
        "\"normal_n2_p1\": \"sepconv3x3\"",
        1,
    );
    assert!(
        text.contains("\"normal_n2_p0\": 3,"),
        "fixture has an index"
    );
    assert!(text.contains("\"sepconv3x3\""), "fixture edit applied");
    std::fs::write(&path, text).unwrap();
    let out = harness(&["arch", "show", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = format!(
        "{}: valid DARTS architecture (op indices and names mixed)\n",
        path.display()
    );
    assert!(stdout.starts_with(&first), "{stdout}");
}

#[test]
fn arch_show_bad_file_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let text = export(&Genotype::darts_v2(), OpFormat::Index).replacen(
        "\"normal_n2_p0\": 3",
        "\"normal_n2_p0\": 99",
        1,
    );
    assert!(text.contains("99"), "fixture edit applied");
    std::fs::write(&path, text).unwrap();
    let out = harness(&["arch", "show", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("normal_n2_p0"), "{stderr}");
    assert!(stderr.contains("bad.json"), "{stderr}");
}

#[test]
fn arch_show_refuses_sizes_out_of_range_like_suites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.json");
    std::fs::write(&path, export(&Genotype::darts_v2(), OpFormat::Index)).unwrap();
    // Fewer than three cells; so deep or wide or with so many classes that building the
    // network would exhaust memory (it took 24 GB and ignored Ctrl-C at 100,000 cells).
    for (args, message) in [
        (
            ["--layers", "1"],
            "--layers must be in [3, 200] (two reduction cells at least), got 1",
        ),
        (["--layers", "100000"], "--layers must be in [3, 200]"),
        (
            ["--channels", "100000"],
            "--channels must be in [1, 65536], got 100000",
        ),
        (
            ["--classes", "1000000000"],
            "--classes must be in [1, 100000], got 1000000000",
        ),
        (
            ["--input-channels", "0"],
            "--input-channels must be in [1, 64]",
        ),
    ] {
        let out = harness(&["arch", "show", path.to_str().unwrap(), args[0], args[1]]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let out = harness(&["arch", "show", path.to_str().unwrap(), "--layers", "3"]);
    assert!(out.status.success());
}

#[test]
fn arch_show_bare_switch_key_says_a_node_keeps_two_edges() {
    // NNI unwraps a one-element list, so a bare key parses; it must be refused for listing one
    // edge, not for "omitting" the other.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bare.json");
    let text = export(&Genotype::darts_v2(), OpFormat::Index).replacen(
        "\"normal_n2_switch\": [\n    \"normal_n2_p0\",\n    \"normal_n2_p1\"\n  ]",
        "\"normal_n2_switch\": \"normal_n2_p0\"",
        1,
    );
    assert!(
        text.contains("\"normal_n2_switch\": \"normal_n2_p0\","),
        "fixture edit applied"
    );
    std::fs::write(&path, text).unwrap();
    let out = harness(&["arch", "show", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "error: {}: key \"normal_n2_switch\": lists one edge where a node keeps two: expected a \
         list of two edge keys, e.g. [\"normal_n2_p0\", \"normal_n2_p1\"] (a bare key or index \
         is a one-element list)\n",
        path.display()
    );
    assert_eq!(stderr, expected);
}
