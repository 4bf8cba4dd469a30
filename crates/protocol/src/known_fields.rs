//! Reading a struct whose fields this crate models, and whose other fields it keeps.
//!
//! Every struct of the event model keeps the fields it does not know in `other`. serde's
//! `#[serde(flatten)]` does that, but it makes the derived reader buffer the whole struct
//! first (every string, every nested object) and read it a second time from the buffer;
//! for an event, whose frames are most of it, that buffering cost as much as the reading.
//! [`deserialize_keeping_other!`] writes the reader a hand would: one pass over the keys,
//! known ones read straight into their field, others kept as [`Value`](serde_json::Value).
//! Writing still uses the derived `Serialize` with `flatten`, which does not buffer.

use std::borrow::Cow;

use serde::de::{self, Deserialize, Deserializer};

/// An object key: borrowed from the input when it has no escapes, so a known key costs
/// no allocation.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E: de::Error>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implements `Deserialize` for a struct with an `other` map of the fields it does not
/// know, in one pass over the object's keys.
///
/// Each field is named as it appears in JSON and in the struct; a field read by a
/// function of its own (`deserialize_with`) names the function and the type it reads:
///
/// ```text
/// deserialize_keeping_other!(Frame {
///     "function" => function,
///     "lineno" => lineno via opt_u64_lenient: Option<u64>,
/// });
/// ```
///
/// Missing fields take their type's default; `null` reads as `None` for an `Option`;
/// a field given twice is refused, as serde's derive refuses it.
macro_rules! deserialize_keeping_other {
    ($ty:ident { $( $json:literal => $field:ident $( via $with:path : $fty:ty )? ),* $(,)? }) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("an object (", stringify!($ty), ")"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        $( let mut $field = None; )*
                        let mut other = ::serde_json::Map::new();
                        while let Some(key) = map.next_key::<$crate::known_fields::Key<'de>>()? {
                            match key.0.as_ref() {
                                $(
                                    $json => {
                                        if $field.is_some() {
                                            return Err(<A::Error as ::serde::de::Error>::duplicate_field($json));
                                        }
                                        $field = Some(deserialize_keeping_other!(@value map $( $fty, $with )?));
                                    }
                                )*
                                _ => {
                                    let value = map.next_value::<::serde_json::Value>()?;
                                    other.insert(key.0.into_owned(), value);
                                }
                            }
                        }
                        Ok($ty {
                            $( $field: $field.unwrap_or_default(), )*
                            other,
                        })
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    };
    (@value $map:ident) => {
        $map.next_value()?
    };
    (@value $map:ident $fty:ty, $with:path) => {{
        struct With($fty);
        impl<'de> ::serde::Deserialize<'de> for With {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $with(deserializer).map(With)
            }
        }
        $map.next_value::<With>()?.0
    }};
}

pub(crate) use deserialize_keeping_other;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Event;

    /// An event in the shapes SDKs send, with fields the model does not know at every
    /// level: written back, it is the same JSON.
    fn sent() -> serde_json::Value {
        json!({
            "event_id": "0123456789abcdef0123456789abcdef",
            "timestamp": 1_800_000_000.5,
            "level": "error",
            "release": "shop@1.4.2",
            "future_field": {"nested": [1, "two", null]},
            "user": {"id": "42", "email": "jane@example.com", "segment": "paid"},
            "request": {"method": "POST", "url": "https://shop.example/", "data": {"a": 1}},
            "contexts": {"os": {"type": "os", "name": "Linux", "build": "6.1"}, "gpu": {"name": "x"}},
            "exception": {"values": [{
                "type": "PaymentError",
                "value": "declined",
                "thread_id": 7,
                "mechanism": {"type": "panic", "handled": false, "synthetic": true},
                "stacktrace": {
                    "registers": {"rip": "0x1"},
                    "frames": [
                        {"function": "main", "lineno": 3, "vars": {"x": 1}, "pre_context": ["a"]},
                        {"function": "handler", "in_app": true, "platform": "rust"}
                    ]
                }
            }]},
            "breadcrumbs": {"values": [{"message": "signed in", "event_id": null}]},
            "debug_meta": {"images": [{"type": "elf", "code_id": "ab", "arch": "x86_64"}], "sdk_info": {}},
            "sdk": {"name": "sentry.python", "version": "2.0", "packages": []}
        })
    }

    #[test]
    fn unknown_fields_are_kept_at_every_level() {
        let sent = sent();
        let text = serde_json::to_vec(&sent).unwrap();
        let event = Event::from_json(&text).unwrap();
        assert_eq!(event.other["future_field"]["nested"][1], "two");
        assert_eq!(event.user.as_ref().unwrap().other["segment"], "paid");
        let exception = &event.exceptions()[0];
        assert_eq!(exception.other["thread_id"], 7);
        assert_eq!(
            exception.mechanism.as_ref().unwrap().other["synthetic"],
            true
        );
        let trace = exception.stacktrace.as_ref().unwrap();
        assert_eq!(trace.other["registers"]["rip"], "0x1");
        assert_eq!(trace.frames[0].lineno, Some(3));
        assert_eq!(trace.frames[0].other["vars"]["x"], 1);
        assert_eq!(trace.frames[1].in_app, Some(true));
        let contexts = event.contexts.as_ref().unwrap();
        assert_eq!(contexts.os.as_ref().unwrap().other["build"], "6.1");
        assert_eq!(contexts.other["gpu"]["name"], "x");
        assert_eq!(
            event.debug_meta.as_ref().unwrap().images[0].other["arch"],
            "x86_64"
        );
        // Written back, nothing is lost and nothing is added.
        assert_eq!(serde_json::to_value(&event).unwrap(), sent);
        // Read from a tree instead of text, the same event.
        assert_eq!(serde_json::from_value::<Event>(sent).unwrap(), event);
    }

    #[test]
    fn escaped_keys_null_fields_and_repeats() {
        // `\u0074ype` is `type`, escaped: it still names the field.
        let event = Event::from_json(
            br#"{"exception": [{"\u0074ype": "E", "value": null}], "release": null}"#,
        )
        .unwrap();
        assert_eq!(event.exceptions()[0].ty.as_deref(), Some("E"));
        assert_eq!(event.exceptions()[0].value, None);
        assert_eq!(event.release, None);
        assert!(event.other.is_empty() && event.exceptions()[0].other.is_empty());

        let error = Event::from_json(br#"{"release": "a", "release": "b"}"#).unwrap_err();
        assert!(
            error.to_string().contains("duplicate field `release`"),
            "{error}"
        );
        let error = Event::from_json(br#"{"user": "jane"}"#).unwrap_err();
        assert!(error.to_string().contains("an object (User)"), "{error}");

        // Text that is not UTF-8 is refused where it is, whether or not a field reads it.
        let error = Event::from_json(b"{\"future\": \"caf\xe9\"}").unwrap_err();
        assert!(
            error.to_string().contains("not UTF-8") && error.to_string().contains("index 15"),
            "{error}"
        );
    }
}
