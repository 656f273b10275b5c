//! The `search` param's matching rule, shared by every backend: a document matches when any
//! word of the search text is a prefix of a word of the document's search text, ignoring case.
//! (Appwrite 1.0 used MariaDB full-text search in boolean mode; this is its simple equivalent.)

/// Splits text into lowercase words of letters, digits and `_`.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The form stored beside each row: its words, each preceded by a space, so that
/// `LIKE '% word%'` finds a word prefix.
pub fn index_text(text: &str) -> String {
    words(text).iter().map(|w| format!(" {w}")).collect()
}

/// A LIKE pattern matching rows whose index text has a word starting with `word`.
pub fn like_pattern(word: &str) -> String {
    let mut pattern = String::from("% ");
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_ids_names_and_runtimes_into_words() {
        assert_eq!(
            index_text("fn_1 My Func node-20.0"),
            " fn_1 my func node 20 0"
        );
        assert_eq!(words("php-8.0"), ["php", "8", "0"]);
    }

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(like_pattern("fn_1"), "% fn\\_1%");
        assert_eq!(like_pattern("a%b"), "% a\\%b%");
    }
}
