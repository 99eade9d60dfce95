//! JSON text this crate wrote itself, kept as text and serialized as it is: the conversation of a
//! request and a verdict's schema, which every judge call writes into its cache key and its
//! request body. Valid by construction, so not parsed again (serde_json's `RawValue::from_string`
//! would, at some 30 instructions a byte in a debug build).

use serde::Serialize;

/// JSON text written by this crate ([`crate::json_writer`] or a writer that matches it byte for
/// byte). It serializes as serde_json's `RawValue` does, so serde_json and
/// [`crate::json_writer`] copy it into what they write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawJson(String);

impl RawJson {
    /// `value` as [`crate::json_writer::to_vec`] writes it.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Self {
        let bytes = crate::json_writer::to_vec(value);
        Self(String::from_utf8(bytes).expect("JSON is written as UTF-8"))
    }

    /// `text`, which its writer guarantees to be valid JSON.
    pub fn written(text: String) -> Self {
        Self(text)
    }

    /// The JSON text.
    #[cfg(test)]
    pub fn get(&self) -> &str {
        &self.0
    }
}

impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        // The shape of serde_json's `RawValue`, which serializers that know it copy as it is.
        let mut raw = serializer.serialize_struct(crate::json_writer::RAW_VALUE, 1)?;
        raw.serialize_field(crate::json_writer::RAW_VALUE, &self.0)?;
        raw.end()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[test]
    fn it_is_copied_as_it_is_by_serde_json_and_json_writer() {
        let value = json!({"b": [1, 2.5, "\"q\"\n"], "a": null});
        let raw = RawJson::of(&value);
        assert_eq!(raw.get(), serde_json::to_string(&value).unwrap());
        let around = BTreeMap::from([("inner", &raw)]);
        let expected = format!("{{\"inner\":{}}}", raw.get());
        assert_eq!(serde_json::to_string(&around).unwrap(), expected);
        assert_eq!(crate::json_writer::to_vec(&around), expected.as_bytes());
        // Pretty printers copy it as it is too, as they do a `RawValue`.
        assert_eq!(crate::json_writer::to_string_pretty(&around), serde_json::to_string_pretty(&around).unwrap());
    }
}
