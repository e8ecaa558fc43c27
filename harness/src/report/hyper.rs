//! The accuracy table's hyper-parameter column: each arm's (name, value) pairs, in the
//! report's language.
//!
//! Result files store the pairs as English text written at run time. Where the arm's
//! definition holds what they were made from (the tuned arm's chosen recipe and search, the
//! nas arm's search and retraining), the pairs are made again here: so that every choice of
//! the search is shown, and the prose is in the report's language. The prose is worded where
//! the run words it ([`chosen_by`], [`NasSearchSpec::summary`](crate::suite::nas::NasSearchSpec::summary),
//! [`NasRetrainSpec::summary`](crate::suite::nas::NasRetrainSpec::summary)), so the result's
//! English and the report's cannot drift apart.
use super::i18n::Lang;
use crate::hpo::space::flatten_params;
use crate::results::ArmResult;
use crate::suite::nas::NasArmSpec;
use crate::suite::tuned::chosen_by;
use crate::train::Recipe;

/// The pairs the report shows for `arm`.
pub fn pairs(arm: &ArmResult, lang: Lang) -> Vec<(String, String)> {
    let remade = match arm.name.as_str() {
        "tuned" => tuned_pairs(arm, lang),
        "nas" => nas_pairs(arm, lang),
        _ => None,
    };
    remade.unwrap_or_else(|| {
        arm.hyperparameters
            .iter()
            .map(|(k, v)| (key(k, lang), singular_epochs(v)))
            .collect()
    })
}

/// A pseudo-parameter's name (a line of prose, not a recipe field) in the report's language;
/// a field's name is kept as the suite spells it.
fn key(name: &str, lang: Lang) -> String {
    match (lang, name) {
        (Lang::Zh, "chosen by") => "选取方式",
        (Lang::Zh, "search") => "搜索",
        (Lang::Zh, "retrain") => "重训",
        _ => name,
    }
    .to_string()
}

/// "1 epochs" → "1 epoch" in a value stored as English text (a result written before the
/// values were made here).
fn singular_epochs(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("1 epochs") {
        let starts_number = !rest[..at].ends_with(|c: char| c.is_ascii_digit() || c == '.');
        out.push_str(&rest[..at]);
        out.push_str(if starts_number { "1 epoch" } else { "1 epochs" });
        rest = &rest[at + "1 epochs".len()..];
    }
    out.push_str(rest);
    out
}

/// The chosen recipe with every parameter the search chose (whatever its value), then how it
/// was chosen. None when the arm has not chosen yet or its definition is not readable.
fn tuned_pairs(arm: &ArmResult, lang: Lang) -> Option<Vec<(String, String)>> {
    let record = arm.hpo.as_ref()?;
    let chosen_params = record.chosen_params.as_ref()?;
    let chosen_id = record.chosen_trial?;
    let recipe: Recipe =
        serde_json::from_value(arm.definition.get("chosen_recipe")?.clone()).ok()?;
    let names: Vec<String> = flatten_params(chosen_params)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut pairs = recipe.summary_pairs_showing(&names);
    // A flat search space draws momentum for Adam too: the value is shown, marked as idle.
    for (name, value) in &mut pairs {
        if names.contains(&name.as_str()) && recipe.unused_field(name).is_some() {
            value.push_str(match lang {
                Lang::En => " (no effect in this recipe)",
                Lang::Zh => "（此配置中不起作用）",
            });
        }
    }
    let top_k = arm
        .definition
        .pointer("/hpo/retrain_top_k")
        .and_then(serde_json::Value::as_u64)
        .map(|k| k as usize)
        .or_else(|| record.fidelity.as_ref().map(|f| f.entries.len()))
        .unwrap_or(1);
    let how = chosen_by(lang, record, chosen_id, top_k);
    pairs.push((key("chosen by", lang), how));
    Some(pairs)
}

/// The search and the retraining said from the arm's definition, the other pairs as stored.
fn nas_pairs(arm: &ArmResult, lang: Lang) -> Option<Vec<(String, String)>> {
    let spec: NasArmSpec = serde_json::from_value(arm.definition.clone()).ok()?;
    let (search, retrain) = (spec.search.summary(lang), spec.retrain.summary(lang));
    Some(
        arm.hyperparameters
            .iter()
            .map(|(k, v)| {
                let value = match k.as_str() {
                    "search" => search.clone(),
                    "retrain" => retrain.clone(),
                    _ => v.clone(),
                };
                (key(k, lang), value)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    fn tuned() -> ArmResult {
        fixture::tuned_arm()
    }

    #[test]
    fn every_parameter_the_search_chose_is_shown_even_zero() {
        let pairs = pairs(&tuned(), Lang::En);
        let has = |k: &str, v: &str| pairs.iter().any(|(pk, pv)| pk == k && pv == v);
        assert!(has("dropout", "0"), "{pairs:?}");
        assert!(
            has("momentum", "0.5239") && has("optimizer", "sgd"),
            "{pairs:?}"
        );
        // A default nobody chose is still left out.
        assert!(!pairs.iter().any(|(k, _)| k == "grad_clip"), "{pairs:?}");
        assert!(
            has(
                "chosen by",
                "tpe + asha over 1 trial of up to 4 epochs on val_acc (trial 0)"
            ),
            "{pairs:?}"
        );
    }

    #[test]
    fn fewer_retrained_than_retrain_top_k_are_counted_as_retrained() {
        let mut arm = tuned();
        arm.definition["hpo"]["retrain_top_k"] = 4.into();
        arm.hpo.as_mut().unwrap().fidelity = Some(crate::results::FidelityCheck {
            seed: 0,
            retrain_top_k: Some(4),
            entries: vec![crate::results::FidelityEntry {
                trial_id: 0,
                search_metric: 0.8,
                full_budget_metric: Some(0.9),
                full_budget_test_acc: None,
            }],
            spearman: None,
            warning: None,
            search_was_full_budget: false,
        });
        let chosen_by = |lang| {
            pairs(&arm, lang)
                .into_iter()
                .find(|(k, _)| *k == key("chosen by", lang))
                .unwrap()
                .1
        };
        assert_eq!(
            chosen_by(Lang::En),
            "tpe + asha over 1 trial of up to 4 epochs, best of the top 1 (retrain_top_k = 4) \
             at the full budget on val_acc (trial 0)"
        );
        assert_eq!(
            chosen_by(Lang::Zh),
            "tpe + asha，1 个 trial（每个至多 4 轮），搜索最好的 1 个（retrain_top_k = 4）以全预算重训后取最好者，\
             按 val_acc 选出（trial 0）"
        );
    }

    #[test]
    fn the_column_speaks_chinese_in_a_chinese_report() {
        let tuned_zh = pairs(&tuned(), Lang::Zh);
        assert!(
            tuned_zh.contains(&(
                "选取方式".into(),
                "tpe + asha，1 个 trial（每个至多 4 轮），按 val_acc 选出（trial 0）".into()
            )),
            "{tuned_zh:?}"
        );
        let mut nas = fixture::arm("nas", &fixture::seeded(&[0.9]), 1);
        let mut spec = NasArmSpec {
            description: String::new(),
            search: Default::default(),
            retrain: Default::default(),
            architecture: None,
            random_baseline: None,
            export_format: "index".into(),
            report: Default::default(),
        };
        spec.search.epochs = 1;
        spec.search.layers = 3;
        spec.retrain.epochs = 1;
        nas.definition = serde_json::to_value(&spec).unwrap();
        nas.hyperparameters = vec![
            ("search".into(), "stored".into()),
            ("retrain".into(), "stored".into()),
            ("drop_path".into(), "0".into()),
        ];
        let en = pairs(&nas, Lang::En);
        assert!(
            en[0].1.starts_with("DARTS first order, 3 cells C="),
            "{en:?}"
        );
        assert!(en[0].1.contains(", 1 epoch, batch") && en[1].1.contains(", 1 epoch, batch"));
        let zh = pairs(&nas, Lang::Zh);
        assert_eq!(zh[0].0, "搜索");
        assert!(zh[0].1.starts_with("DARTS 一阶，3 个 cell，C="), "{zh:?}");
        assert_eq!(zh[1].0, "重训");
        assert!(
            zh[1].1.ends_with("，余弦调度") && zh[1].1.contains("1 轮"),
            "{zh:?}"
        );
        assert_eq!(zh[2], ("drop_path".into(), "0".into()));
        for (_, v) in &zh {
            assert!(!v.contains("epoch") && !v.contains("cosine"), "{zh:?}");
        }
    }

    #[test]
    fn a_chosen_parameter_the_recipe_ignores_is_shown_as_such() {
        let mut arm = tuned();
        let record = arm.hpo.as_mut().unwrap();
        record.chosen_params = serde_json::from_value(
            serde_json::json!({"optimizer": "adam", "momentum": 0.7, "initial_lr": 0.01}),
        )
        .ok();
        let mut recipe: Recipe =
            serde_json::from_value(arm.definition["chosen_recipe"].clone()).unwrap();
        recipe.optimizer = crate::train::OptimizerKind::Adam;
        recipe.momentum = 0.7;
        arm.definition["chosen_recipe"] = serde_json::to_value(&recipe).unwrap();
        let en = pairs(&arm, Lang::En);
        assert!(
            en.contains(&("momentum".into(), "0.7 (no effect in this recipe)".into())),
            "{en:?}"
        );
        assert!(en.contains(&("optimizer".into(), "adam".into())), "{en:?}");
        let zh = pairs(&arm, Lang::Zh);
        assert!(
            zh.contains(&("momentum".into(), "0.7（此配置中不起作用）".into())),
            "{zh:?}"
        );
        // Not chosen by the search: left out, as before.
        recipe.momentum = 0.9;
        arm.definition["chosen_recipe"] = serde_json::to_value(&recipe).unwrap();
        arm.hpo.as_mut().unwrap().chosen_params =
            serde_json::from_value(serde_json::json!({"optimizer": "adam", "initial_lr": 0.01}))
                .ok();
        assert!(!pairs(&arm, Lang::En).iter().any(|(k, _)| k == "momentum"));
    }

    #[test]
    fn a_stored_one_epochs_is_said_in_the_singular() {
        assert_eq!(
            singular_epochs("tpe over 4 trials of up to 1 epochs, and 11 epochs, 0.1 epochs"),
            "tpe over 4 trials of up to 1 epoch, and 11 epochs, 0.1 epochs"
        );
    }
}
