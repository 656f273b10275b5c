//! Points in time as the API shows them: UTC, millisecond precision, rendered like
//! `2022-10-12T10:41:07.123+00:00` (the format every Appwrite 1.0 model uses).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch, UTC. Stored as an integer by every backend so that
/// ordering and range filters are plain integer comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self(at.timestamp_millis())
    }

    /// `2022-10-12T10:41:07.123+00:00`: chrono's `Z` form would break clients that compare
    /// strings, so the offset is always written out.
    pub fn to_api_string(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Millis, false)
    }

    /// Accepts what users put in datetime query values: RFC 3339 with any offset, or the
    /// stored form `2022-10-12 10:41:07.123` (taken as UTC).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(Self(at.timestamp_millis()));
        }
        for format in [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S",
        ] {
            if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Some(Self(naive.and_utc().timestamp_millis()));
            }
        }
        None
    }
}

/// Renders an optional time the way the models do: `""` when unset.
pub fn api_string_or_empty(at: Option<Timestamp>) -> String {
    at.map(Timestamp::to_api_string).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_millis_and_explicit_offset() {
        let at = Timestamp::from_millis(1_665_571_267_123);
        assert_eq!(at.to_api_string(), "2022-10-12T10:41:07.123+00:00");
    }

    #[test]
    fn parses_its_own_output_and_the_stored_form() {
        let at = Timestamp::from_millis(1_665_571_267_123);
        assert_eq!(Timestamp::parse(&at.to_api_string()), Some(at));
        assert_eq!(Timestamp::parse("2022-10-12 10:41:07.123"), Some(at));
        assert_eq!(Timestamp::parse("2022-10-12T12:41:07.123+02:00"), Some(at));
        assert_eq!(Timestamp::parse("yesterday"), None);
    }

    #[test]
    fn unset_renders_empty() {
        assert_eq!(api_string_or_empty(None), "");
    }
}
