//! The nas arm's section: both cells as Mermaid diagrams, the search cost, the parameter
//! count, the search-time supernet accuracy per epoch (labelled: not the model's accuracy),
//! and DARTS against the random-search baseline.
use super::compare::MachineArm;
use super::i18n::{plural, Lang};
use super::table::markdown;
use crate::nas::archfile;
use crate::nas::render::cell_mermaid;
use crate::results::{reported_accuracies, ArmMetric, ArmResult, NasRecord};
use crate::stats::describe::{mean, std_dev};

pub fn section(arm: &ArmResult, record: &NasRecord, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let mut md = String::new();
    match &record.search {
        Some(s) => md.push_str(&if zh {
            format!(
                "DARTS {}搜索：{} 个 cell，C={}，{} 轮，batch {}，种子 {}；搜索耗时 {:.1} 秒。训练集对半分：一半训练权重，一半更新架构参数。\n\n",
                if s.unrolled { "二阶" } else { "一阶" },
                s.layers, s.channels, s.epochs, s.batch_size, s.seed, record.search_seconds
            )
        } else {
            format!(
                "DARTS {}-order search: {}, C={}, {}, batch {}, seed {}; search took {:.1} s. \
                 The training set is split 50/50: one half trains the weights, the other the architecture.\n\n",
                if s.unrolled { "second" } else { "first" },
                plural(s.layers, "cell"), s.channels, plural(s.epochs, "epoch"), s.batch_size, s.seed,
                record.search_seconds
            )
        }),
        None => md.push_str(if zh {
            "未搜索：重训给定的架构文件。\n\n"
        } else {
            "No search: the arm retrained a given architecture file.\n\n"
        }),
    }
    md.push_str(&if zh {
        format!(
            "重训的架构：`{}`；参数量 {}（{:.2}M，不含辅助头）；重训耗时 {:.1} 秒。\n\n",
            record.architecture_file,
            record.parameters,
            record.parameters as f64 / 1e6,
            record.retrain_seconds
        )
    } else {
        format!(
            "Retrained architecture: `{}`; {} parameters ({:.2}M, auxiliary head excluded); retraining took {:.1} s.\n\n",
            record.architecture_file,
            record.parameters,
            record.parameters as f64 / 1e6,
            record.retrain_seconds
        )
    });
    if let Ok((g, _)) = archfile::import(&record.architecture.to_string(), "architecture") {
        let (n, r) = if zh {
            ("Normal cell（普通单元）", "Reduction cell（缩减单元）")
        } else {
            ("Normal cell", "Reduction cell")
        };
        md.push_str(&cell_mermaid(&g.normal, n));
        md.push('\n');
        md.push_str(&cell_mermaid(&g.reduce, r));
        md.push('\n');
    }
    if !record.search_epochs.is_empty() {
        md.push_str(if zh {
            "**搜索时超网络的准确率——不是模型的准确率**（超网络在训练集的架构那一半上、eval 模式下的准确率；模型准确率见上面准确率表中的重训结果）：\n\n"
        } else {
            "**Search-time supernet accuracy — not the model's accuracy** (the supernet on the architecture half of \
             the training set, eval mode; the model's accuracy is the retraining in the accuracy table):\n\n"
        });
        let header = if zh {
            vec![
                "轮次",
                "学习率",
                "训练损失",
                "超网络训练准确率",
                "架构半集损失",
                "搜索时超网络准确率",
                "秒",
            ]
        } else {
            vec![
                "epoch",
                "lr",
                "train loss",
                "supernet train acc",
                "arch-half loss",
                "search-time supernet acc",
                "s",
            ]
        };
        let rows: Vec<Vec<String>> = record
            .search_epochs
            .iter()
            .map(|e| {
                vec![
                    e.epoch.to_string(),
                    format!("{:.4}", e.lr),
                    format!("{:.4}", e.train_loss),
                    format!("{:.4}", e.train_acc),
                    format!("{:.4}", e.arch_loss),
                    format!("{:.4}", e.arch_acc),
                    format!("{:.1}", e.seconds),
                ]
            })
            .collect();
        let header: Vec<String> = header.into_iter().map(String::from).collect();
        md.push_str(&markdown(&header, &rows));
        md.push_str("\n\n");
    }
    if !record.random_samples.is_empty() {
        let metric = if arm.metric == ArmMetric::BestTestAcc {
            if zh {
                "最佳轮次测试准确率"
            } else {
                "best-epoch test accuracy"
            }
        } else if zh {
            "最后一轮测试准确率"
        } else {
            "last-epoch test accuracy"
        };
        let scored = record
            .random_samples
            .iter()
            .filter(|s| s.val_acc.is_some())
            .count();
        md.push_str(&if zh {
            format!(
                "随机搜索基线：均匀采样 {} 个架构（{} 个有分数），每个在训练集的验证划分上短训后按验证准确率选最好的（样本 {}），再用与 DARTS 架构相同的预算和种子重训；耗时 {:.1} 秒。\n\n",
                record.random_samples.len(), scored,
                record.random_best.map_or("—".into(), |i| i.to_string()), record.random_seconds
            )
        } else {
            format!(
                "Random-search baseline: {} ({} scored), each trained briefly on a \
                 validation split of the training set; the best by validation accuracy (sample {}) was retrained \
                 with the DARTS architecture's budget and seeds; {:.1} s.\n\n",
                plural(record.random_samples.len(), "uniformly sampled architecture"), scored,
                record.random_best.map_or("—".into(), |i| i.to_string()), record.random_seconds
            )
        });
        // Recomputed from the runs, as everywhere in the report, check and compare.
        let darts = MachineArm::of(arm);
        let random_accs = reported_accuracies(&record.random_runs, arm.metric);
        let random_n = random_accs.len();
        let random_mean = mean(&random_accs);
        let random_std = std_dev(&random_accs);
        // Fractions with 4 decimals, as in the results table above: the same runs, the same
        // numbers.
        let cell = |mean: Option<f64>, std: Option<f64>, n: usize| match (mean, n) {
            (Some(m), 0..=1) => format!("{m:.4}"),
            (Some(m), _) => format!("{m:.4} ± {:.4}", std.unwrap_or(0.0)),
            (None, _) => "—".into(),
        };
        let header = if zh {
            vec![
                "架构".to_string(),
                format!("{metric}（均值 ± 标准差）"),
                "n".into(),
            ]
        } else {
            vec![
                "architecture".to_string(),
                format!("{metric} (mean ± std)"),
                "n".into(),
            ]
        };
        let rows = vec![
            vec![
                "DARTS".to_string(),
                cell(darts.mean, darts.std, darts.n),
                darts.n.to_string(),
            ],
            vec![
                if zh {
                    "随机搜索最佳"
                } else {
                    "best random"
                }
                .to_string(),
                cell(random_mean, random_std, random_n),
                random_n.to_string(),
            ],
        ];
        md.push_str(&markdown(&header, &rows));
        md.push_str("\n\n");
        if let (Some(d), Some(r)) = (darts.mean, random_mean) {
            let diff = d - r;
            md.push_str(&if zh {
                format!(
                    "差值（DARTS − 随机）：{diff:+.4}（n = {} 与 {random_n}；种子少时这只是点估计，不是显著性结论）。\n\n",
                    darts.n
                )
            } else {
                format!(
                    "Difference (DARTS − random): {diff:+.4} (n = {} and {random_n}; with few seeds this is a point \
                     estimate, not a significance test).\n\n",
                    darts.n
                )
            });
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::results::RandomSample;

    fn record(random_accs: &[f64], epochs: usize) -> NasRecord {
        let mut search = crate::suite::nas::NasSearchSpec::default();
        (search.layers, search.epochs) = (1, epochs);
        NasRecord {
            search: Some(search),
            search_epochs: Vec::new(),
            search_seconds: 1.0,
            epoch_files: Vec::new(),
            architecture_file: "epoch_0.json".into(),
            architecture: serde_json::Value::Null,
            parameters: 1000,
            random_samples: vec![RandomSample {
                architecture: serde_json::Value::Null,
                val_acc: Some(0.5),
                seconds: 1.0,
            }],
            random_best: Some(0),
            random_architecture: None,
            random_runs: fixture::arm("nas", &fixture::seeded(random_accs), 2).runs,
            random_mean: None,
            random_std: None,
            retrain_seconds: 1.0,
            random_seconds: 1.0,
        }
    }

    /// DARTS against random speaks the results table's units (fractions, 4 decimals), so
    /// the same runs show the same numbers; counts of one are singular.
    #[test]
    fn darts_vs_random_uses_the_results_tables_numbers() {
        let arm = fixture::arm("nas", &fixture::seeded(&[0.7397, 0.7475]), 2);
        let table_cell = crate::report::accuracy_cell(&arm, Lang::En);
        assert!(table_cell.starts_with("0.7436 ± 0.0055"), "{table_cell}");
        let md = section(&arm, &record(&[0.6, 0.62], 1), Lang::En);
        assert!(md.contains("| DARTS        | 0.7436 ± 0.0055 "), "{md}");
        assert!(md.contains("| 0.6100 ± 0.0141 "), "{md}");
        assert!(
            md.contains("Difference (DARTS − random): +0.1336 (n = 2 and 2"),
            "{md}"
        );
        assert!(!md.contains('%'), "{md}");
        assert!(
            md.contains("search: 1 cell, C=") && md.contains(", 1 epoch, batch"),
            "{md}"
        );
        assert!(md.contains("Random-search baseline: 1 uniformly sampled architecture (1 scored)"));
        let zh = section(&arm, &record(&[0.6, 0.62], 1), Lang::Zh);
        assert!(zh.contains("差值（DARTS − 随机）：+0.1336（"), "{zh}");
    }
}
