//! JSON as serde_json writes it, byte for byte, for what a run writes in quantity: the JSON report
//! (every eval, every sample), the verdict cache's entries and the material of their keys, the
//! requests' bodies. serde_json escapes strings,
//! keys included, one byte at a time through several generic layers, and in the debug build that
//! `cargo test` makes (judge-runtime unoptimized) that is most of the cost of writing a report: here
//! the text between the characters that need escaping is copied whole. Numbers are still written
//! by serde_json, so that floats read the same, and serde_json's `RawValue` is copied as it is. A
//! value this writer does not take (a map keyed by something other than a string, a number or a
//! character) is written by serde_json instead.

use std::fmt::{self, Display};

use serde::Serialize;
use serde::ser::{self, SerializeMap as _};

/// `value` as `serde_json::to_string_pretty` writes it.
pub(crate) fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    let mut writer = Writer { out: String::with_capacity(4096), depth: 0, pretty: true };
    match value.serialize(&mut writer) {
        Ok(()) => writer.out,
        Err(Unsupported) => serde_json::to_string_pretty(value).expect("the value serializes as JSON"),
    }
}

/// `value` as `serde_json::to_vec` writes it (no white space).
pub(crate) fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut writer = Writer { out: String::with_capacity(1024), depth: 0, pretty: false };
    match value.serialize(&mut writer) {
        Ok(()) => writer.out.into_bytes(),
        Err(Unsupported) => serde_json::to_vec(value).expect("the value serializes as JSON"),
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"` and `\`, the short forms
/// of backspace, form feed, newline, carriage return and tab, `\u00XX` (lowercase hex) for the other
/// control characters; nothing else.
pub(crate) fn escaped_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        // Every byte of a multi-byte character is ≥ 0x80: none needs escaping, and a cut between
        // two escapes always falls on a character boundary.
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            at += 1;
            continue;
        }
        out.push_str(&text[copied..at]);
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
        at += 1;
        copied = at;
    }
    out.push_str(&text[copied..]);
    out.push('"');
}

/// What this writer does not write; serde_json writes the whole value instead.
#[derive(Debug)]
struct Unsupported;

impl Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value serde_json writes itself")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: Display>(_: T) -> Self {
        Unsupported
    }
}

/// Pretty JSON, indented by two spaces per level, as serde_json's `PrettyFormatter`.
struct Writer {
    out: String,
    depth: usize,
    /// Indented, as `PrettyFormatter`; else compact, as `CompactFormatter`.
    pretty: bool,
}

impl Writer {
    fn newline(&mut self) {
        if !self.pretty {
            return;
        }
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// A number (or `null`, for a float that is not finite), written by serde_json.
    fn number<T: Serialize>(&mut self, value: T) -> Result<(), Unsupported> {
        self.out.push_str(&serde_json::to_string(&value).map_err(|_| Unsupported)?);
        Ok(())
    }

    /// Opens the object around a variant's fields and writes its one key, `{"variant": `.
    fn variant_key(&mut self, variant: &str) {
        self.out.push('{');
        self.depth += 1;
        self.newline();
        escaped_into(&mut self.out, variant);
        self.out.push_str(if self.pretty { ": " } else { ":" });
    }

    /// Opens an array or object; `empty` closes it at once, as serde_json writes `[]` and `{}`.
    fn open(&mut self, bracket: char, empty: bool) -> Compound<'_> {
        self.out.push(bracket);
        self.depth += 1;
        Compound { writer: self, first: true, empty, raw: false }
    }
}

/// An array or object being written.
struct Compound<'a> {
    writer: &'a mut Writer,
    first: bool,
    /// Known to have no elements (a length of 0 given up front).
    empty: bool,
    /// serde_json's `RawValue`: its one field is JSON text, copied as it is.
    raw: bool,
}

impl<'a> Compound<'a> {
    fn element(&mut self) {
        if !self.first {
            self.writer.out.push(',');
        }
        self.first = false;
        self.writer.newline();
    }

    /// Closes the array or object, and gives the writer back.
    fn close(self, bracket: char) -> &'a mut Writer {
        let Compound { writer, first, empty, .. } = self;
        writer.depth -= 1;
        if !first && !empty {
            writer.newline();
        }
        writer.out.push(bracket);
        writer
    }

    /// Closes a variant's fields and the object around them, `{"variant": [ … ]}`.
    fn close_variant(self, bracket: char) {
        let writer = self.close(bracket);
        writer.depth -= 1;
        writer.newline();
        writer.out.push('}');
    }

    fn key(&mut self, key: &str) {
        self.element();
        escaped_into(&mut self.writer.out, key);
        self.writer.out.push_str(if self.writer.pretty { ": " } else { ":" });
    }
}

/// serde_json's marker for a `RawValue`, whose text it copies as it is: a struct of this name with
/// one field of this name, the JSON text (as serde_json's own `RawValue` serializes itself).
pub(crate) const RAW_VALUE: &str = "$serde_json::private::RawValue";

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        self.number(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        escaped_into(&mut self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        escaped_into(&mut self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unsupported> {
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut seq, byte)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Unsupported> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        let mut object = self.serialize_map(Some(1))?;
        object.serialize_entry(variant, value)?;
        object.end()
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('[', len == Some(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Unsupported> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        // `{"variant": [ … ]}`: the outer object is closed in `end`.
        self.variant_key(variant);
        Ok(self.open('[', len == 0))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        Ok(self.open('{', len == Some(0)))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'a>, Unsupported> {
        if name == RAW_VALUE {
            return Ok(Compound { writer: self, first: true, empty: false, raw: true });
        }
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Unsupported> {
        self.variant_key(variant);
        Ok(self.open('{', len == 0))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.element();
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close(']');
        Ok(())
    }
}

/// Tuples, of any kind but a variant's, are written as arrays.
macro_rules! as_array {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Unsupported;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
                ser::SerializeSeq::serialize_element(self, value)
            }
            fn end(self) -> Result<(), Unsupported> {
                ser::SerializeSeq::end(self)
            }
        }
    )*};
}

as_array!(SerializeTuple::serialize_element, SerializeTupleStruct::serialize_field);

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close_variant(']');
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        let key = key.serialize(KeyText)?;
        self.key(&key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close('}');
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Unsupported> {
        if self.raw {
            if key != RAW_VALUE {
                return Err(Unsupported);
            }
            let text = value.serialize(KeyText)?;
            self.writer.out.push_str(&text);
            return Ok(());
        }
        self.key(key);
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result<(), Unsupported> {
        if !self.raw {
            self.close('}');
        }
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Unsupported> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), Unsupported> {
        self.close_variant('}');
        Ok(())
    }
}

/// A map key as the text serde_json writes for it: a string or character as it is, a number as
/// its digits (quoted by the caller). Anything else is written by serde_json.
struct KeyText;

macro_rules! number_keys {
    ($($method:ident: $type:ty),*) => {
        $(fn $method(self, v: $type) -> Result<String, Unsupported> {
            Ok(v.to_string())
        })*
    };
}

macro_rules! unsupported_keys {
    ($($method:ident($($arg:ty),*)),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<String, Unsupported> {
            Err(Unsupported)
        })*
    };
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<String, Unsupported>;
    type SerializeTuple = ser::Impossible<String, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<String, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<String, Unsupported>;
    type SerializeMap = ser::Impossible<String, Unsupported>;
    type SerializeStruct = ser::Impossible<String, Unsupported>;
    type SerializeStructVariant = ser::Impossible<String, Unsupported>;

    number_keys!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128);
    number_keys!(serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);
    unsupported_keys!(serialize_bool(bool), serialize_f32(f32), serialize_f64(f64), serialize_bytes(&[u8]));
    unsupported_keys!(serialize_none(), serialize_unit(), serialize_unit_struct(&'static str));

    fn serialize_char(self, v: char) -> Result<String, Unsupported> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Unsupported> {
        Ok(v.to_owned())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String, Unsupported> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    fn same<T: Serialize + ?Sized>(value: &T) {
        assert_eq!(to_string_pretty(value), serde_json::to_string_pretty(value).unwrap());
        assert_eq!(to_vec(value), serde_json::to_vec(value).unwrap());
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u32),
        Tuple(i8, String),
        EmptyTuple(),
        Struct { a: f64, b: Option<&'static str> },
        EmptyStruct {},
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Newtype(Vec<u8>);

    #[derive(Serialize)]
    struct Everything {
        shapes: Vec<Shape>,
        unit: Unit,
        newtype: Newtype,
        tuple: (bool, char, (), Option<u8>),
        floats: [f64; 8],
        small: f32,
        ints: (i64, u64, i128, u128),
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        empty: (Vec<u8>, BTreeMap<String, u8>, HashMap<u8, u8>),
        numbered: BTreeMap<u32, Vec<Vec<u8>>>,
        flattened: BTreeMap<char, BTreeMap<String, Shape>>,
        #[serde(with = "serde_bytes_as_seq")]
        bytes: Vec<u8>,
    }

    mod serde_bytes_as_seq {
        pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(bytes)
        }
    }

    #[test]
    fn every_shape_is_written_as_serde_json_writes_it() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let value = Everything {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(-3, every_ascii.clone()),
                Shape::EmptyTuple(),
                Shape::Struct { a: 0.1, b: Some("b\u{2028}é✓😀") },
                Shape::Struct { a: f64::NAN, b: None },
                Shape::EmptyStruct {},
            ],
            unit: Unit,
            newtype: Newtype(vec![0, 255]),
            tuple: (true, '"', (), None),
            floats: [1.0, -0.0, 1e21, 1e-7, 123456789.125, f64::INFINITY, f64::MIN_POSITIVE, 2.5e300],
            small: 0.1,
            ints: (i64::MIN, u64::MAX, i128::MIN, u128::MAX),
            skipped: None,
            empty: (Vec::new(), BTreeMap::new(), HashMap::new()),
            numbered: BTreeMap::from([(3, vec![vec![], vec![1]]), (10, Vec::new())]),
            flattened: BTreeMap::from([('k', BTreeMap::from([(every_ascii, Shape::Newtype(1))]))]),
            bytes: vec![1, 2, 3],
        };
        same(&value);
        same(&json!({"a": [1, {"b": null, "c": []}, {}], "d\n": "e"}));
        same(&Vec::<u8>::new());
        same("top-level string");
        same(&(1, 2));
    }

    #[test]
    fn raw_json_is_copied_as_it_is() {
        #[derive(Serialize)]
        struct WithRaw<'a> {
            before: u8,
            raw: &'a serde_json::value::RawValue,
            after: [Box<serde_json::value::RawValue>; 1],
        }
        let raw = serde_json::value::RawValue::from_string("{\"a\":[1, 2] ,\"b\":\"\\n\"}".to_owned()).unwrap();
        same(&WithRaw { before: 1, raw: &raw, after: [raw.clone()] });
        same(&raw);
    }

    #[test]
    fn a_map_keyed_by_anything_else_is_written_by_serde_json() {
        let by_bool = BTreeMap::from([(false, 1), (true, 2)]);
        same(&by_bool);
    }
}
