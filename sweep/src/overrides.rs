//! Dotted override paths into a strategy file (`indicators.rsi.period`,
//! `fuzzy_sets.rsi.oversold.parameters`, `model.training.seed`): resolving them against the base
//! strategy, and writing values there.
//!
//! A path goes segment by segment: in a mapping a segment is a key; in a list it is the element
//! whose `name` or `feature_id` is the segment, or a numeric index. The last segment must name a
//! key that exists, so a typo fails instead of adding a key the strategy parser ignores. The one
//! exception is `model.training`, where the training options the parsers know (`seed`,
//! `weight_decay`, `momentum`, ...) are optional and usually absent: those may be added.

use crate::tree::Node;

/// Where optional keys may be added.
const OPEN_MAPPING: [&str; 2] = ["model", "training"];

/// The keys of `model.training` that may be absent from a strategy file (the strategy crate and
/// `ktrdr-train`'s options read them, with defaults): only these may be added, so a typo such as
/// `learning_rat` is still an error.
const TRAINING_KEYS: [&str; 11] = [
    "learning_rate",
    "batch_size",
    "epochs",
    "optimizer",
    "early_stopping",
    "weight_decay",
    "momentum",
    "class_weights",
    "lr_schedule",
    "seed",
    "embedding_dim",
];

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A path resolved against one document: the steps to the value, and whether the last key is new.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Route {
    steps: Vec<Step>,
    adds_key: bool,
}

/// Resolves `path` against `root`, or says why it names nothing there.
pub(crate) fn resolve(root: &Node, path: &str) -> Result<Route, String> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.trim().is_empty()) {
        return Err("empty segment (write a.b.c)".into());
    }
    if segments == ["name"] {
        return Err("the name is set per cell; it cannot be overridden".into());
    }
    let mut steps = Vec::with_capacity(segments.len());
    let mut node = root;
    // Where we are, for messages: `indicators[rsi]`, `fuzzy_sets.rsi`.
    let mut place = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let here = if place.is_empty() {
            "the top level".to_string()
        } else {
            place.clone()
        };
        match node {
            Node::Map(entries) => match entries.iter().find(|(k, _)| k == seg) {
                Some((_, child)) => {
                    steps.push(Step::Key(seg.to_string()));
                    node = child;
                }
                None if last && segments[..i] == OPEN_MAPPING && TRAINING_KEYS.contains(seg) => {
                    steps.push(Step::Key(seg.to_string()));
                    return Ok(Route {
                        steps,
                        adds_key: true,
                    });
                }
                None => {
                    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                    return Err(format!(
                        "no key {seg:?} in {here} (keys: {})",
                        keys.join(", ")
                    ));
                }
            },
            Node::Seq(items) => {
                let index = element(items, seg).map_err(|why| format!("{why} in {here}"))?;
                steps.push(Step::Index(index));
                node = &items[index];
            }
            other => {
                return Err(format!(
                    "{here} is {}, so it has no {seg:?} inside",
                    other.kind()
                ));
            }
        }
        place = match steps.last() {
            Some(Step::Index(_)) => format!("{place}[{seg}]"),
            _ if place.is_empty() => seg.to_string(),
            _ => format!("{place}.{seg}"),
        };
    }
    Ok(Route {
        steps,
        adds_key: false,
    })
}

/// The list element `seg` names: by `name` or `feature_id`, else by index.
fn element(items: &[Node], seg: &str) -> Result<usize, String> {
    let named = |field: &str, item: &Node| item.get(field).and_then(Node::as_str) == Some(seg);
    let matches: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| named("name", item) || named("feature_id", item))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [one] => return Ok(*one),
        [] => {}
        several => {
            return Err(format!(
                "{} elements are named {seg:?} (use a feature_id or an index: {})",
                several.len(),
                several
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if let Ok(i) = seg.parse::<usize>() {
        if i < items.len() {
            return Ok(i);
        }
        return Err(format!(
            "index {i} is past the end ({} elements)",
            items.len()
        ));
    }
    let names: Vec<&str> = items
        .iter()
        .filter_map(|item| {
            item.get("feature_id")
                .and_then(Node::as_str)
                .or_else(|| item.get("name").and_then(Node::as_str))
        })
        .collect();
    Err(format!(
        "no element named {seg:?} (names: {})",
        names.join(", ")
    ))
}

/// Puts `value` where `route` leads. The route must come from [`resolve`] on this same document.
pub(crate) fn apply(root: &mut Node, route: &Route, value: Node) -> Result<(), String> {
    let Some((last, parents)) = route.steps.split_last() else {
        return Err("empty path".into());
    };
    let mut node = root;
    for step in parents {
        node = child_mut(node, step).ok_or("the document changed under the override")?;
    }
    if route.adds_key {
        if let (Node::Map(entries), Step::Key(k)) = (&mut *node, last) {
            entries.push((k.clone(), value));
            return Ok(());
        }
        return Err("the document changed under the override".into());
    }
    let slot = child_mut(node, last).ok_or("the document changed under the override")?;
    *slot = value;
    Ok(())
}

fn child_mut<'a>(node: &'a mut Node, step: &Step) -> Option<&'a mut Node> {
    match (node, step) {
        (Node::Map(entries), Step::Key(k)) => {
            entries.iter_mut().find(|(key, _)| key == k).map(|(_, v)| v)
        }
        (Node::Seq(items), Step::Index(i)) => items.get_mut(*i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSI: &str = include_str!("../../strategies/rsi_mean_reversion.yaml");

    fn doc() -> Node {
        Node::from_yaml(RSI).unwrap()
    }

    fn set(path: &str, value: &str) -> Node {
        let mut d = doc();
        let route = resolve(&d, path).unwrap();
        apply(&mut d, &route, Node::from_yaml(value).unwrap()).unwrap();
        d
    }

    #[test]
    fn finds_list_elements_by_name_and_index() {
        let d = set("indicators.rsi.period", "7");
        let rsi = &d.get("indicators").unwrap();
        let Node::Seq(items) = rsi else { panic!() };
        assert_eq!(items[0].get("period").unwrap().as_f64(), Some(7.0));
        assert_eq!(items[1].get("fast_period").unwrap().as_f64(), Some(12.0));
        let d = set("indicators.1.fast_period", "10");
        let Node::Seq(items) = d.get("indicators").unwrap() else {
            panic!()
        };
        assert_eq!(items[1].get("fast_period").unwrap().as_f64(), Some(10.0));
    }

    #[test]
    fn finds_by_feature_id_and_refuses_ambiguous_names() {
        let d = Node::from_yaml(
            "indicators: [{name: rsi, feature_id: rsi_7, period: 7}, {name: rsi, feature_id: rsi_14, period: 14}]",
        )
        .unwrap();
        assert!(resolve(&d, "indicators.rsi_14.period").is_ok());
        let e = resolve(&d, "indicators.rsi.period").unwrap_err();
        assert!(e.contains("2 elements are named \"rsi\""), "{e}");
        let e = resolve(&d, "indicators.5.period").unwrap_err();
        assert!(e.contains("index 5 is past the end"), "{e}");
        let e = resolve(&d, "indicators.ema.period").unwrap_err();
        assert_eq!(
            e,
            "no element named \"ema\" (names: rsi_7, rsi_14) in indicators"
        );
    }

    #[test]
    fn a_missing_last_key_is_an_error_except_under_model_training() {
        let e = resolve(&doc(), "indicators.rsi.perod").unwrap_err();
        assert_eq!(
            e,
            "no key \"perod\" in indicators[rsi] (keys: name, period, source)"
        );
        let e = resolve(&doc(), "model.architecture.seed").unwrap_err();
        assert!(
            e.starts_with("no key \"seed\" in model.architecture"),
            "{e}"
        );
        let e = resolve(&doc(), "model.training.early_stopping.foo").unwrap_err();
        assert!(e.contains("model.training.early_stopping"), "{e}");
        let e = resolve(&doc(), "model.training.x.y").unwrap_err();
        assert!(e.starts_with("no key \"x\" in model.training"), "{e}");
        let e = resolve(&doc(), "model.training.learning_rat").unwrap_err();
        assert!(
            e.starts_with("no key \"learning_rat\" in model.training"),
            "{e}"
        );
        let d = set("model.training.seed", "7");
        let t = d.get("model").unwrap().get("training").unwrap();
        assert_eq!(t.get("seed").unwrap().as_f64(), Some(7.0));
        assert_eq!(t.get("learning_rate").unwrap().as_f64(), Some(0.001));
    }

    #[test]
    fn scalars_and_names_and_empty_segments() {
        let e = resolve(&doc(), "indicators.rsi.period.x").unwrap_err();
        assert_eq!(
            e,
            "indicators[rsi].period is a number, so it has no \"x\" inside"
        );
        assert!(resolve(&doc(), "name").is_err());
        assert!(resolve(&doc(), "model..training").is_err());
        let e = resolve(&doc(), "indicatorz.rsi").unwrap_err();
        assert!(
            e.starts_with("no key \"indicatorz\" in the top level"),
            "{e}"
        );
    }
}
