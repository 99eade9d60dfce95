//! SHA-256 in hex, by ring: its assembly is fast even in the debug build `cargo test` makes, where
//! sha2's Rust is compiled unoptimized. Every judge call hashes its cache key and its output's
//! fence tag.

/// The SHA-256 of `parts`, one after another.
pub(crate) fn sha256(parts: &[&[u8]]) -> ring::digest::Digest {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(part);
    }
    context.finish()
}

/// `bytes` in lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_the_sha256_sha2_computes() {
        use sha2::{Digest, Sha256};
        for bytes in [&b""[..], b"abc", &[7u8; 1000]] {
            let expected: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex(sha256(&[bytes]).as_ref()), expected);
            let (a, b) = bytes.split_at(bytes.len() / 2);
            assert_eq!(hex(sha256(&[a, b]).as_ref()), expected, "parts hash as their concatenation");
        }
    }
}
