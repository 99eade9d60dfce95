//! A conversation's messages as JSON, byte for byte what serde_json writes for them, written here
//! because it is on every judge call's path (the cache key hashes it, the request body carries
//! it) and serde_json's string escaping, compiled unoptimized in the debug build `cargo test`
//! makes, costs some 200 instructions per byte of prompt. The contents are escaped by
//! [`crate::json_writer::escaped_into`], which copies the text between characters that need
//! escaping whole.

use serde_json::value::RawValue;

/// Messages given as `(role, content)`, as serde_json writes `prompt::Message`s:
/// `[{"role":"system","content":"…"},…]`. A role is a plain lowercase word.
pub(crate) fn to_json<'a>(messages: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone) -> Box<RawValue> {
    let length: usize = messages.clone().map(|(_, content)| content.len() + 32).sum();
    let mut json = String::with_capacity(length + 2);
    json.push('[');
    for (i, (role, content)) in messages.enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(r#"{"role":""#);
        json.push_str(role);
        json.push_str(r#"","content":"#);
        crate::json_writer::escaped_into(&mut json, content);
        json.push('}');
    }
    json.push(']');
    RawValue::from_string(json).expect("the messages are written as valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::techniques::prompt::{Message, Role};

    fn json_of(messages: &[Message]) -> Box<RawValue> {
        to_json(messages.iter().map(|m| (m.role.name(), m.content.as_str())))
    }

    #[test]
    fn the_json_is_serde_jsons_to_the_byte() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let texts = [
            String::new(),
            "plain".to_owned(),
            every_ascii,
            "quotes \" and \\ back\\slashes\\\" \n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}".to_owned(),
            "ünïcödé ✓ 🦀 at the end\n".to_owned(),
            "\"".to_owned(),
        ];
        for text in texts {
            let messages = vec![
                Message { role: Role::System, content: text.clone() },
                Message { role: Role::User, content: format!("{text}|{text}") },
                Message { role: Role::Assistant, content: text.clone() },
            ];
            assert_eq!(json_of(&messages).get(), serde_json::to_string(&messages).unwrap(), "{text:?}");
        }
        assert_eq!(json_of(&[]).get(), "[]");
    }
}
