//! A map that keeps the file's key order: features come out in the order the author wrote the fuzzy
//! sets, as in the predecessor, rather than alphabetically.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_written_order_and_finds_by_key() {
        let m: OrderedMap<i64> = serde_saphyr::from_str("zeta: 1\nalpha: 2\nmid: 3\n").unwrap();
        assert_eq!(
            m.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["zeta", "alpha", "mid"]
        );
        assert_eq!(m.get("alpha"), Some(&2));
        assert_eq!(m.get("beta"), None);
        assert_eq!(m.len(), 3);
        assert!(!m.is_empty());
        assert!(OrderedMap::<i64>::default().is_empty());
    }

    #[test]
    fn a_list_where_a_mapping_belongs_is_an_error() {
        let err = serde_saphyr::from_str::<OrderedMap<i64>>("[1, 2]").unwrap_err();
        assert!(err.to_string().contains("expected mapping"), "{err}");
    }
}
