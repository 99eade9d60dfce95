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
        let text = self.0;
        let mut start = 0;
        for (i, c) in text.char_indices() {
            let reference = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                '\n' | '\t' => continue,
                c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                    f.write_str(&text[start..i])?;
                    write!(f, "{}", c.escape_unicode())?;
                    start = i + c.len_utf8();
                    continue;
                }
                _ => continue,
            };
            f.write_str(&text[start..i])?;
            f.write_str(reference)?;
            start = i + c.len_utf8();
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
    }
}
