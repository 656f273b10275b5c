//! Parameter rules shared by the use cases, with Appwrite's wording: a missing required
//! parameter is `Param "x" is not optional.`, a bad one is `Invalid x: <rule>`.

use crate::error::{Error, Result};

pub(crate) fn not_optional(param: &str) -> Error {
    Error::argument(format!("Param \"{param}\" is not optional."))
}

pub(crate) fn invalid(param: &str, rule: impl std::fmt::Display) -> Error {
    Error::argument(format!("Invalid {param}: {rule}"))
}

/// A required, non-empty string of at most `max` characters.
pub(crate) fn required_text(param: &str, value: Option<String>, max: usize) -> Result<String> {
    match value {
        None => Err(not_optional(param)),
        Some(text) if text.is_empty() => Err(not_optional(param)),
        Some(text) => {
            text_length(param, &text, max)?;
            Ok(text)
        }
    }
}

pub(crate) fn text_length(param: &str, text: &str, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(invalid(
            param,
            format!(
                "Value must be a valid string and at least 1 chars and no longer than {max} chars"
            ),
        ));
    }
    Ok(())
}

/// An array of at most `max_items` strings, each checked by `item`.
pub(crate) fn list(
    param: &str,
    values: Option<Vec<String>>,
    max_items: usize,
    item: impl Fn(&str) -> std::result::Result<(), String>,
) -> Result<Vec<String>> {
    let values = values.unwrap_or_default();
    if values.len() > max_items {
        return Err(invalid(
            param,
            format!("Value must a valid array no longer than {max_items} items"),
        ));
    }
    for value in &values {
        item(value).map_err(|rule| invalid(param, rule))?;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_treats_empty_as_missing() {
        let err = required_text("name", Some(String::new()), 5).unwrap_err();
        assert_eq!(err.to_string(), "Param \"name\" is not optional.");
        let err = required_text("name", Some("toolong".into()), 5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid name: Value must be a valid string and at least 1 chars and no longer than 5 chars"
        );
        assert_eq!(required_text("name", Some("ok".into()), 5).unwrap(), "ok");
    }

    #[test]
    fn list_checks_count_and_items() {
        let ok = |_: &str| Ok(());
        assert!(list("events", Some(vec!["a".into(); 101]), 100, ok).is_err());
        let refuse = |v: &str| {
            if v == "bad" {
                Err(format!("{v} is bad"))
            } else {
                Ok(())
            }
        };
        let err = list(
            "events",
            Some(vec!["good".into(), "bad".into()]),
            100,
            refuse,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "Invalid events: bad is bad");
        assert_eq!(list("events", None, 100, ok).unwrap(), Vec::<String>::new());
    }
}
