//! Model text made safe for markup: HTML (the HTML report, the Markdown summary, which GitHub
//! renders as HTML) and XML (JUnit). Model text is untrusted: it can hold tags, quotes, entity-like
//! text and control characters.

use std::fmt;

/// Displays text safe for element content and for double- or single-quoted attributes, in HTML
/// and XML alike: `& < > " '` become character references, and the characters XML 1.0 cannot carry
/// (control characters other than newline and tab, U+FFFE, U+FFFF) are shown escaped (`\u{1b}`),
/// as the terminal report shows them, so a hostile output can neither inject markup nor make a
/// report unparseable.
pub(crate) struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Byte by byte, copying the runs between what is escaped whole: the reports escape every
        // output and rationale of a run, and a debug build decoding each character is slow.
        let text = self.0;
        let bytes = text.as_bytes();
        let (mut start, mut at) = (0, 0);
        while at < bytes.len() {
            let reference = match bytes[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                b'\n' | b'\t' => {
                    at += 1;
                    continue;
                }
                // Where a character XML cannot carry may start: C0 controls and DEL, C1 controls
                // (C2 80–9F), U+FFFE and U+FFFF (EF BF BE/BF). 0xC2 and 0xEF are lead bytes, never
                // inside another character, so `at` is a character boundary here.
                0x00..=0x1f | 0x7f | 0xc2 | 0xef => {
                    let c = text[at..].chars().next().expect("a character starts here");
                    if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' {
                        f.write_str(&text[start..at])?;
                        write!(f, "{}", c.escape_unicode())?;
                        start = at + c.len_utf8();
                    }
                    at += c.len_utf8();
                    continue;
                }
                _ => {
                    at += 1;
                    continue;
                }
            };
            f.write_str(&text[start..at])?;
            f.write_str(reference)?;
            at += 1;
            start = at;
        }
        f.write_str(&text[start..])
    }
}

/// [`Escaped`] as a string.
pub(crate) fn escaped(text: &str) -> String {
    Escaped(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_unparseable_characters_are_escaped() {
        assert_eq!(
            escaped("<script>alert('x' & \"y\")</script>"),
            "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;"
        );
        assert_eq!(escaped("a\u{1b}[2J\0\r\u{ffff}\n\tz"), "a\\u{1b}[2J\\u{0}\\u{d}\\u{ffff}\n\tz");
        assert_eq!(escaped("café ✓"), "café ✓");
        // Characters led by the bytes that may start one XML cannot carry, and those that do.
        assert_eq!(escaped("© ¿ \u{a0} ｡ \u{fffd} 😀"), "© ¿ \u{a0} ｡ \u{fffd} 😀");
        assert_eq!(escaped("a\u{85}b\u{9f}c\u{fffe}d\u{7f}"), "a\\u{85}b\\u{9f}c\\u{fffe}d\\u{7f}");
    }

    #[test]
    fn every_character_is_escaped_as_one_at_a_time_would() {
        let reference = |text: &str| {
            text.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_owned(),
                    '<' => "&lt;".to_owned(),
                    '>' => "&gt;".to_owned(),
                    '"' => "&quot;".to_owned(),
                    '\'' => "&#39;".to_owned(),
                    '\n' | '\t' => c.to_string(),
                    c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => c.escape_unicode().to_string(),
                    c => c.to_string(),
                })
                .collect::<String>()
        };
        let every: String = (0u32..0x3000).chain(0xfff0..0x10000).chain([0x1f600]).filter_map(char::from_u32).collect();
        assert_eq!(escaped(&every), reference(&every));
    }
}
