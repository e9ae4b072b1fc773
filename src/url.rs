//! Percent-encoding for URL paths and query values, shared by the server, the browser bundle
//! and the CLI.

/// Percent-encodes every byte of the UTF-8 text except RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`), so the result is safe in a path segment or a query value.
pub fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encode_keeps_unreserved() {
        assert_eq!(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
    }

    #[test]
    fn percent_encode_encodes_utf8_bytes() {
        assert_eq!(percent_encode("é /"), "%C3%A9%20%2F");
    }
}
