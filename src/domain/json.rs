//! Reading JSON request bodies: objects whose members appear once each, and the members
//! several bodies share (`file_name`, `metadata`).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{FileName, InputError, Metadata, excerpt};

/// The members of the JSON object `body`, each as its raw text for the caller to read.
pub(crate) fn members(body: &[u8]) -> Result<BTreeMap<String, &RawValue>, InputError> {
    JsonObject::parse(body)
}

/// A `file_name` member: a string that is a valid file name.
pub(crate) fn file_name(raw: &RawValue) -> Result<FileName, InputError> {
    let text = serde_json::from_str::<String>(raw.get())
        .map_err(|_| InputError::InvalidField("`file_name` must be a string".into()))?;
    FileName::parse(text)
}

/// An optional `metadata` member: absent or `null` is none.
pub(crate) fn metadata(raw: Option<&RawValue>) -> Result<Metadata, InputError> {
    match raw.filter(|raw| raw.get() != "null") {
        None => Ok(Metadata::default()),
        Some(raw) => Metadata::parse(
            serde_json::from_str::<JsonObject<String>>(raw.get())
                .map_err(|_| {
                    InputError::InvalidField("`metadata` must be an object of string values".into())
                })?
                .unique()?,
        ),
    }
}

/// A JSON object's members, refusing a repeated name: parsers differ on which of two
/// `content` members wins, so a body that has two is not one this API reads.
pub(crate) struct JsonObject<V> {
    members: BTreeMap<String, V>,
    repeated: Option<String>,
}

impl<'a, V: Deserialize<'a>> JsonObject<V> {
    pub(crate) fn parse(json: &'a [u8]) -> Result<BTreeMap<String, V>, InputError> {
        let object: Self = serde_json::from_slice(json).map_err(|e| {
            InputError::InvalidJson(if e.is_data() {
                "the body must be a JSON object".to_owned()
            } else {
                e.to_string()
            })
        })?;
        object.unique()
    }

    pub(crate) fn unique(self) -> Result<BTreeMap<String, V>, InputError> {
        match self.repeated {
            Some(name) => Err(InputError::InvalidJson(format!(
                "the member `{}` appears more than once in one object",
                excerpt(&name)
            ))),
            None => Ok(self.members),
        }
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for JsonObject<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for ObjectVisitor<V> {
            type Value = JsonObject<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut object = JsonObject {
                    members: BTreeMap::new(),
                    repeated: None,
                };
                // Read to the end even past a repeat, so a syntax error is still the one named.
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value()?;
                    if let Some(_earlier) = object.members.insert(key.clone(), value) {
                        object.repeated.get_or_insert(key);
                    }
                }
                Ok(object)
            }
        }
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}
