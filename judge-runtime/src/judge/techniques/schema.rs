//! A verdict's JSON schema, as a value (for the providers that build on it) and as JSON written
//! once: every judge call writes it into its cache key and its request body. The schema of a plain
//! verdict depends on the scale alone, and is made once per scale.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::judge::techniques::verdict::{self, Scale};
use crate::raw_json::RawJson;

/// A JSON schema and its JSON. It reads as its value, and serializes as its JSON, copied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Schema {
    value: Value,
    json: RawJson,
}

impl Schema {
    pub fn new(value: Value) -> Arc<Self> {
        let json = RawJson::of(&value);
        Arc::new(Self { value, json })
    }

    /// The schema of a plain verdict on `scale` ([`verdict::schema`]), made once per scale.
    pub fn of_verdict(scale: Scale) -> Arc<Self> {
        static MADE: Mutex<Vec<(Scale, Arc<Schema>)>> = Mutex::new(Vec::new());
        let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, schema)) = made.iter().find(|(of, _)| *of == scale) {
            return Arc::clone(schema);
        }
        let schema = Self::new(verdict::schema(scale));
        made.push((scale, Arc::clone(&schema)));
        schema
    }
}

impl Deref for Schema {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_serializes_as_its_value_and_is_made_once_per_scale() {
        let scale = Scale { min: 1, max: 5 };
        let schema = Schema::of_verdict(scale);
        assert_eq!(**schema, verdict::schema(scale));
        assert_eq!(serde_json::to_string(&*schema).unwrap(), serde_json::to_string(&verdict::schema(scale)).unwrap());
        assert_eq!(crate::json_writer::to_vec(&*schema), serde_json::to_vec(&verdict::schema(scale)).unwrap());
        assert!(Arc::ptr_eq(&schema, &Schema::of_verdict(scale)));
        assert!(!Arc::ptr_eq(&schema, &Schema::of_verdict(Scale::default())));
        assert_eq!(**Schema::of_verdict(Scale::default()), verdict::schema(Scale::default()));
    }
}
