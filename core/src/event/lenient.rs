//! Reading JSON leniently: objects kept as raw values until a field is read, keys matched
//! ignoring ASCII case, and the one copy of the rules every read value passes ([`check`]:
//! length, timestamps, placeholders). A wrong value is named as damaged, never the event refused.

use std::borrow::Cow;
use std::fmt;

use chrono::DateTime;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::scrub::without_values;
use super::{TIMESTAMP_MAX_BYTES, VALUE_MAX_CHARS};
use crate::facts::{Read, SECONDS_MAX};
use crate::ordering::is_placeholder_timestamp;

/// What [`check`] made of a value.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Checked {
    /// Says nothing: empty, a placeholder timestamp, an ARN without an id.
    Absent,
    Value(String),
    /// No value Connect sends: oversize, an unreadable timestamp.
    Damaged,
}

impl Checked {
    /// The value, if any: for values inside a snapshot, where damage costs the value silently.
    pub(super) fn ok(self) -> Option<String> {
        match self {
            Checked::Value(value) => Some(value),
            Checked::Absent | Checked::Damaged => None,
        }
    }
}

/// The rules a string value passes before it is stored, read as `read`. An empty string says
/// nothing; one longer than any Connect value is damage (no event may grow an item towards
/// DynamoDB's 400 KB limit). Placeholders (`1970-01-01T…`) are how Connect says "not yet":
/// unknown, but not damaged, and never stored, so they cannot block the real value later.
pub(super) fn check(value: String, read: Read) -> Checked {
    if value.is_empty() {
        return Checked::Absent;
    }
    if value.chars().count() > VALUE_MAX_CHARS {
        return Checked::Damaged;
    }
    match read {
        Read::Text => Checked::Value(value),
        Read::UpperCase => Checked::Value(value.to_ascii_uppercase()),
        Read::Timestamp if is_placeholder_timestamp(&value) => Checked::Absent,
        Read::Timestamp
            if value.len() <= TIMESTAMP_MAX_BYTES
                && DateTime::parse_from_rfc3339(&value).is_ok() =>
        {
            Checked::Value(value)
        }
        Read::Timestamp => Checked::Damaged,
        // The id an ARN ends with (`…/agent-group/<id>`); each level of a hierarchy is one.
        Read::Id | Read::DeepestLevelId => value
            .rsplit('/')
            .next()
            .filter(|id| !id.is_empty())
            .map_or(Checked::Absent, |id| Checked::Value(id.to_owned())),
        Read::Seconds => match value.parse::<u64>() {
            Ok(seconds) if seconds <= SECONDS_MAX => Checked::Value(seconds.to_string()),
            _ => Checked::Damaged,
        },
    }
}

/// A value read as [`Read::Seconds`]: Connect sends a JSON number; a string is read too, and
/// [`check`] tells whether it holds whole seconds. `Err` (the kind of value) for other types.
pub(super) fn seconds(raw: Option<&RawValue>) -> Result<Option<String>, String> {
    match raw {
        // A JSON number as written (`48`; `-1`, `1.5`, `1e3` fail `check`).
        Some(raw)
            if raw
                .get()
                .starts_with(|c: char| c == '-' || c.is_ascii_digit()) =>
        {
            Ok(Some(raw.get().to_owned()))
        }
        raw => string(raw),
    }
}

/// A string value: `Ok(None)` when absent or `null`; `Err` (the kind of value, never the value)
/// when it is another type.
pub(super) fn string(raw: Option<&RawValue>) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(raw) if raw.get() == "null" => Ok(None),
        Some(raw) => serde_json::from_str(raw.get())
            .map(Some)
            .map_err(|error| without_values(&error)),
    }
}

/// The paths of damaged fields, each once.
#[derive(Default)]
pub(super) struct Damaged(pub(super) Vec<String>);

impl Damaged {
    pub(super) fn add(&mut self, path: &str) {
        if !self.0.iter().any(|known| known == path) {
            self.0.push(path.to_owned());
        }
    }
}

/// `detail`, read field by field. The objects under it are each read once, however many
/// fields they hold, and a damaged one is named once.
pub(super) struct Detail<'a> {
    fields: Fields<'a>,
    /// The objects read so far: each by its parent's entry (`None`: `detail`) and key; `None`
    /// when it is absent or damaged.
    nested: Vec<(Option<usize>, &'static str, Option<Fields<'a>>)>,
    pub(super) damaged: Damaged,
}

impl<'a> Detail<'a> {
    pub(super) fn new(fields: Fields<'a>, damaged: Damaged) -> Detail<'a> {
        Detail {
            fields,
            nested: Vec::new(),
            damaged,
        }
    }

    /// The raw value of one of `detail`'s own keys.
    pub(super) fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.fields.get(key)
    }

    /// The value at `source` (keys of `detail`, then of the objects below it), read as `read`.
    /// Nothing is allocated but the value: the path is spelt out only for a damaged field.
    pub(super) fn value(&mut self, source: &[&'static str], read: Read) -> Option<String> {
        let (leaf, parents) = source.split_last()?;
        let path = |depth: usize| source.get(..depth).unwrap_or(source).join(".");
        let mut index: Option<usize> = None;
        for (depth, parent) in parents.iter().enumerate() {
            let known = self
                .nested
                .iter()
                .position(|(above, key, _)| *above == index && key == parent);
            index = Some(match known {
                Some(i) => i,
                None => {
                    let outer = match index {
                        None => &self.fields,
                        Some(i) => self.nested.get(i)?.2.as_ref()?,
                    };
                    let inner = outer.get(parent).and_then(|raw| match Fields::read(raw) {
                        Ok(inner) => Some(inner),
                        Err(_) if raw.get() == "null" => None,
                        Err(_) => {
                            self.damaged.add(&path(depth + 1));
                            None
                        }
                    });
                    self.nested.push((index, parent, inner));
                    self.nested.len() - 1
                }
            });
        }
        let fields = match index {
            None => &self.fields,
            Some(i) => self.nested.get(i)?.2.as_ref()?,
        };
        let text = match read {
            Read::Seconds => seconds(fields.get(leaf)),
            _ => string(fields.get(leaf)),
        };
        let checked = match text {
            Ok(value) => check(value?, read),
            Err(_) => Checked::Damaged,
        };
        match checked {
            Checked::Value(value) => Some(value),
            Checked::Absent => None,
            Checked::Damaged => {
                self.damaged.add(&path(source.len()));
                None
            }
        }
    }
}

/// The keys and raw values of one JSON object, in order. Keys are matched ignoring ASCII case
/// (`contactId`, `ContactId`; `instanceArn`, `instanceARN`, `InstanceARN`), an exact match first.
/// Keys are borrowed from the payload unless they hold escapes.
pub(super) struct Fields<'a>(pub(super) Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Fields<'a> {
    /// The object `raw` holds; `Err` (the kind of value it is instead) when it is no object.
    pub(super) fn read(raw: &'a RawValue) -> Result<Fields<'a>, String> {
        serde_json::from_str(raw.get()).map_err(|error| without_values(&error))
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a RawValue> {
        // One pass: an exact match wins, else the first that differs only in ASCII case.
        let mut folded = None;
        for (name, raw) in &self.0 {
            if name.len() != key.len() {
                continue;
            }
            if name == key {
                return Some(*raw);
            }
            if folded.is_none() && name.eq_ignore_ascii_case(key) {
                folded = Some(*raw);
            }
        }
        folded
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;

        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }

        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// An object key, borrowed from the payload when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A JSON object read as `T`. Serde lets a struct be read from an array too (`[1, 2]` as
/// positional fields); the event model has objects only, so an array is a wrong type.
#[derive(Debug, Default)]
pub(super) struct Object<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// `routingCriteria` is one object in real events and an array in the documentation samples.
#[derive(Debug)]
pub(super) struct OneOrMany<T>(pub(super) Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object or an array of objects")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|one| OneOrMany(vec![one]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut many = Vec::new();
                while let Some(one) = seq.next_element()? {
                    many.push(one);
                }
                Ok(OneOrMany(many))
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor(std::marker::PhantomData))
    }
}
