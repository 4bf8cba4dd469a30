//! Deserializers for the fields that Sentry SDKs send in more than one shape.
//!
//! Sentry's schema is forgiving: a list may come bare or wrapped in `{"values": [...]}`,
//! headers and tags as an object or as a list of pairs, ids as strings or numbers. These
//! helpers accept every shape and normalise to one, so the rest of the code sees one type.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Renders a scalar JSON value as the string Sentry would display for it.
pub(crate) fn scalar_to_string(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Deserializes an optional string that may also arrive as a number or a boolean.
pub(crate) fn opt_string_or_number<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value.and_then(scalar_to_string))
}

/// Deserializes an optional unsigned number that may also arrive as a numeric string.
///
/// Read straight from the parser (every frame has a line number or two), not through a
/// `Value`.
pub(crate) fn opt_u64_lenient<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Lenient;
    impl<'de> de::Visitor<'de> for Lenient {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a non-negative number, or one as a string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Option<u64>, D::Error> {
            inner.deserialize_any(self)
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Option<u64>, E> {
            Ok(Some(n))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Option<u64>, E> {
            u64::try_from(n)
                .map(Some)
                .map_err(|_| E::custom(format!("expected a non-negative number, got {n}")))
        }
        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Option<u64>, E> {
            if n >= 0.0 {
                Ok(Some(n as u64))
            } else {
                Err(E::custom(format!(
                    "expected a non-negative number, got {n}"
                )))
            }
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<u64>, E> {
            s.trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| E::custom(format!("expected a number, got {s:?}")))
        }
    }
    deserializer.deserialize_option(Lenient)
}

/// Key/value pairs that arrive either as a JSON object or as a list of `[key, value]` pairs.
///
/// Order and duplicates are kept (HTTP headers may repeat). Serialized as a list of pairs,
/// which every Sentry-compatible server accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value stored under `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Iterates over the pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Pairs {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Pairs(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(Pairs::default()),
            Value::Object(map) => Ok(Pairs(
                map.into_iter()
                    .filter_map(|(k, v)| scalar_to_string(v).map(|v| (k, v)))
                    .collect(),
            )),
            Value::Array(items) => {
                let mut pairs = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Array(mut kv) if kv.len() == 2 => {
                            let v = kv.pop().and_then(scalar_to_string);
                            let k = kv.pop().and_then(scalar_to_string);
                            if let (Some(k), Some(v)) = (k, v) {
                                pairs.push((k, v));
                            }
                        }
                        Value::Null => {}
                        other => {
                            return Err(de::Error::custom(format!(
                                "expected a [key, value] pair, got {other}"
                            )));
                        }
                    }
                }
                Ok(Pairs(pairs))
            }
            other => Err(de::Error::custom(format!(
                "expected an object or a list of pairs, got {other}"
            ))),
        }
    }
}

/// A list that arrives either bare (`[...]`) or wrapped (`{"values": [...]}`).
///
/// Serialized wrapped, as Sentry's schema documents it.
#[derive(Debug, Clone, PartialEq)]
pub struct Values<T> {
    /// The items, in the order the sender gave them.
    pub values: Vec<T>,
}

impl<T> Default for Values<T> {
    fn default() -> Self {
        Values { values: Vec::new() }
    }
}

impl<T> From<Vec<T>> for Values<T> {
    fn from(values: Vec<T>) -> Self {
        Values { values }
    }
}

impl<T: Serialize> Serialize for Values<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a, T> {
            values: &'a [T],
        }
        Wrapped {
            values: &self.values,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    /// Reads the items straight from the input, in either shape: no intermediate
    /// [`Value`] tree (an exception list is most of an event, frames and all, and
    /// building it twice was a measurable part of ingest's CPU).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValuesVisitor(std::marker::PhantomData))
    }
}

struct ValuesVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::Visitor<'de> for ValuesVisitor<T> {
    type Value = Values<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list or {\"values\": [...]}")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Values::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Values::default())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            values.push(item);
        }
        Ok(Values { values })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = None;
        while let Some(key) = map.next_key::<WrapperKey>()? {
            match key {
                WrapperKey::Values if values.is_none() => {
                    values = map.next_value::<Option<Vec<T>>>()?;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(Values {
            values: values.unwrap_or_default(),
        })
    }
}

/// A key of the wrapped shape: `values`, or one that is skipped.
enum WrapperKey {
    Values,
    Other,
}

impl<'de> Deserialize<'de> for WrapperKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl de::Visitor<'_> for KeyVisitor {
            type Value = WrapperKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<WrapperKey, E> {
                Ok(if key == "values" {
                    WrapperKey::Values
                } else {
                    WrapperKey::Other
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(default)]
        list: Option<Values<u32>>,
        // A flattened map makes serde buffer the struct first: `Values` must read
        // from that buffer as well as from the text.
        #[serde(flatten)]
        _rest: serde_json::Map<String, Value>,
    }

    fn read(json: &str) -> Result<Vec<u32>, String> {
        let holder: Holder = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(holder.list.map(|l| l.values).unwrap_or_default())
    }

    #[test]
    fn values_arrive_bare_or_wrapped() {
        assert_eq!(read(r#"{"list": [1, 2]}"#).unwrap(), [1, 2]);
        assert_eq!(read(r#"{"list": {"values": [3]}}"#).unwrap(), [3]);
        assert_eq!(
            read(r#"{"list": {"other": {"x": [1]}, "values": [4, 5], "more": 1}}"#).unwrap(),
            [4, 5]
        );
        assert_eq!(
            read(r#"{"list": {"values": null}}"#).unwrap(),
            [] as [u32; 0]
        );
        assert_eq!(read(r#"{"list": {}}"#).unwrap(), [] as [u32; 0]);
        assert_eq!(read(r#"{"list": null, "x": 1}"#).unwrap(), [] as [u32; 0]);
        let direct: Values<u32> = serde_json::from_str("[7]").unwrap();
        assert_eq!(direct.values, [7]);
    }

    #[test]
    fn values_of_another_shape_are_refused_by_name() {
        let error = read(r#"{"list": "three"}"#).unwrap_err();
        assert!(error.contains(r#"a list or {"values": [...]}"#), "{error}");
        let error = read(r#"{"list": ["a"]}"#).unwrap_err();
        assert!(error.contains("u32"), "{error}");
    }

    #[test]
    fn line_numbers_arrive_as_numbers_or_strings() {
        let line = |json: &str| -> Result<Option<u64>, String> {
            let frame: crate::Frame = serde_json::from_str(json).map_err(|e| e.to_string())?;
            // The same from a tree as from text.
            let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
            let from_tree: crate::Frame =
                serde_json::from_value(value).map_err(|e| e.to_string())?;
            assert_eq!(frame.lineno, from_tree.lineno, "{json}");
            Ok(frame.lineno)
        };
        assert_eq!(line(r#"{"lineno": 12}"#), Ok(Some(12)));
        assert_eq!(line(r#"{"lineno": 12.0}"#), Ok(Some(12)));
        assert_eq!(line(r#"{"lineno": " 12 "}"#), Ok(Some(12)));
        assert_eq!(line(r#"{"lineno": null}"#), Ok(None));
        assert_eq!(line(r#"{}"#), Ok(None));
        let refused = |json: &str, says: &str| {
            let error = line(json).unwrap_err();
            assert!(error.contains(says), "{json}: {error}");
        };
        refused(
            r#"{"lineno": -3}"#,
            "expected a non-negative number, got -3",
        );
        refused(r#"{"lineno": -0.5}"#, "expected a non-negative number");
        refused(
            r#"{"lineno": "twelve"}"#,
            r#"expected a number, got "twelve""#,
        );
        refused(
            r#"{"lineno": true}"#,
            "a non-negative number, or one as a string",
        );
        refused(
            r#"{"lineno": [1]}"#,
            "a non-negative number, or one as a string",
        );
    }
}
