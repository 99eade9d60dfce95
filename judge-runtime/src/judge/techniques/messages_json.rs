//! A conversation's messages as JSON, byte for byte what serde_json writes for them, written here
//! because it is on every judge call's path (the cache key hashes it, the request body carries
//! it) and serde_json's string escaping, compiled unoptimized in the debug build `cargo test`
//! makes, costs some 200 instructions per byte of prompt. The contents are escaped by
//! [`crate::json_writer::escaped_into`], which copies the text between characters that need
//! escaping whole.

use crate::raw_json::RawJson;

/// Messages given as `(role, content)`, as serde_json writes `prompt::Message`s:
/// `[{"role":"system","content":"…"},…]`. A role is a plain lowercase word.
pub(crate) fn to_json<'a>(messages: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone) -> RawJson {
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
    RawJson::written(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::techniques::prompt::{Message, Role};

    fn json_of(messages: &[Message]) -> RawJson {
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
            let json = json_of(&messages);
            assert_eq!(json.get(), serde_json::to_string(&messages).unwrap(), "{text:?}");
            // Valid JSON, serialized as it is by serde_json and by json_writer.
            let parsed: serde_json::Value = serde_json::from_str(json.get()).unwrap();
            assert_eq!(parsed, serde_json::to_value(&messages).unwrap());
            let wrapped = serde_json::json!({"messages": "x"}).to_string().replace("\"x\"", json.get());
            assert_eq!(
                serde_json::to_string(&std::collections::BTreeMap::from([("messages", &json)])).unwrap(),
                wrapped
            );
            assert_eq!(
                crate::json_writer::to_vec(&std::collections::BTreeMap::from([("messages", &json)])),
                wrapped.as_bytes()
            );
        }
        assert_eq!(json_of(&[]).get(), "[]");
    }
}
