//! Passwords, API tokens and the rules for names users choose.

pub mod passwords;
pub mod tokens;

/// Checks a username or workspace slug: 1 to 64 characters from `a-z`, `0-9`, `-`, `_`, `.`.
pub fn validate_name(kind: &str, name: &str) -> Result<(), String> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if name.is_empty() || name.len() > 64 || !valid_chars {
        return Err(format!(
            "invalid {kind} \"{name}\": use 1 to 64 lowercase letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}

/// Turns a display name into a slug: "Fraud Team" becomes "fraud-team".
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_collapses_separators() {
        assert_eq!(slugify("  Fraud  Team / EU "), "fraud-team-eu");
    }

    #[test]
    fn validate_name_rejects_uppercase() {
        let error = validate_name("username", "Alice").unwrap_err();
        assert!(error.contains("\"Alice\""), "{error}");
    }
}
