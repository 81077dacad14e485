//! A YAML/JSON document as a tree that keeps the order of mapping keys as written.
//!
//! Hand-written rather than `serde_json::Value`: without serde_json's `preserve_order` feature its
//! maps sort their keys, and a cell strategy written back from such a value would list
//! `fuzzy_sets` (and each set's memberships) alphabetically, which reorders the model's features
//! against the base strategy. Turning the feature on would flip the key order of every JSON value
//! in the workspace (feature unification), so the ordered tree lives here, small and local.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    /// Keys in the order written.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Parses YAML (JSON is YAML).
    ///
    /// A typeless parse must guess each plain scalar's type, and the guess is written back as
    /// JSON. YAML 1.1 guesses would turn a key `y` into `true` and a symbol `0700` into the number
    /// 700, which the strategy parser then reads differently than the original text; so only the
    /// YAML 1.2 booleans count, and numbers with a leading zero stay text.
    pub fn from_yaml(text: &str) -> Result<Node, String> {
        let options = serde_saphyr::options! {
            strict_booleans: true,
            leading_zero_numbers_as_strings: true,
        };
        serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
    }

    /// Compact JSON text.
    pub fn to_json(&self) -> Result<String, String> {
        serde_json::to_string(self).map_err(|e| e.to_string())
    }

    /// A word for the kind of value, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    #[cfg(test)]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom(format!("{v} has no JSON form (use a finite number)")))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let key = match key {
                Node::String(s) => s,
                Node::Number(n) => n.to_string(),
                Node::Bool(b) => b.to_string(),
                other => {
                    return Err(de::Error::custom(format!(
                        "a mapping key must be a plain word, not {}",
                        other.kind()
                    )));
                }
            };
            let value = map.next_value::<Node>()?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("key {key:?} appears twice")));
            }
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_scalar_kinds() {
        let n = Node::from_yaml("b: 1\na: [0.5, x, true, null, 2017-05-01]\nc: {z: 1, y: '2.0'}\n")
            .unwrap();
        assert_eq!(
            n.to_json().unwrap(),
            r#"{"b":1,"a":[0.5,"x",true,null,"2017-05-01"],"c":{"z":1,"y":"2.0"}}"#
        );
    }

    #[test]
    fn only_yaml_1_2_booleans_and_no_leading_zero_numbers() {
        let n = Node::from_yaml("y: yes\nn: [no, on, off, True, 0700, 0.5, -0]\n").unwrap();
        assert_eq!(
            n.to_json().unwrap(),
            r#"{"y":"yes","n":["no","on","off",true,"0700",0.5,0]}"#
        );
    }

    #[test]
    fn json_text_reads_back_as_the_same_tree() {
        let n = Node::from_yaml("a: [1, -2.5, {k: v}]\nb: ~\n").unwrap();
        assert_eq!(Node::from_yaml(&n.to_json().unwrap()).unwrap(), n);
        let back: Node = serde_json::from_str(&n.to_json().unwrap()).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn refuses_duplicate_keys_and_non_finite_numbers() {
        assert!(Node::from_yaml("a: 1\na: 2\n").is_err());
        let e = Node::from_yaml("a: .nan\n").unwrap_err();
        assert!(e.contains("finite"), "{e}");
    }
}
