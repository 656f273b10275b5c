//! CRON schedules: the standard five fields (minute, hour, day of month, month, day of week)
//! with lists, ranges, steps, names, `L`, `W`, `#`, `?`, and the `@yearly`-style macros.
//! Times are UTC; the next run is the first matching minute strictly after "now".

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::Timestamp;

/// A parsed, valid schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Schedule \"{expression}\" is not a valid CRON expression: use five fields (minute hour day-of-month month day-of-week) or a macro such as @daily"
)]
pub struct InvalidSchedule {
    pub expression: String,
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Self, InvalidSchedule> {
        let invalid = || InvalidSchedule {
            expression: expression.to_owned(),
        };
        let trimmed = expression.trim();
        // `@midnight` is the one macro the croner parser does not know by name.
        let pattern = if trimmed.eq_ignore_ascii_case("@midnight") {
            "@daily"
        } else {
            trimmed
        };
        if !pattern.starts_with('@') && pattern.split_whitespace().count() != 5 {
            return Err(invalid());
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(pattern)
            .map_err(|_| invalid())?;
        Ok(Self { cron })
    }

    /// The first run strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let start: DateTime<Utc> = after.to_datetime();
        self.cron
            .find_next_occurrence(&start, false)
            .ok()
            .map(Timestamp::from_datetime)
    }

    /// The last run at or before `at`.
    pub fn previous_at_or_before(&self, at: Timestamp) -> Option<Timestamp> {
        let start: DateTime<Utc> = at.to_datetime();
        self.cron
            .find_previous_occurrence(&start, true)
            .ok()
            .map(Timestamp::from_datetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("test time")
    }

    #[test]
    fn next_run_of_new_year_schedule() {
        let schedule = Schedule::parse("0 0 1 1 *").unwrap();
        let next = schedule.next_after(at("2022-10-12T10:41:07.123+00:00"));
        assert_eq!(next, Some(at("2023-01-01T00:00:00.000+00:00")));
    }

    #[test]
    fn next_is_strictly_after_now() {
        let schedule = Schedule::parse("*/5 * * * *").unwrap();
        let now = at("2022-10-12T10:40:00.000+00:00");
        assert_eq!(
            schedule.next_after(now),
            Some(at("2022-10-12T10:45:00.000+00:00"))
        );
    }

    #[test]
    fn macros_are_case_insensitive_and_midnight_is_daily() {
        for expression in ["@daily", "@DAILY", "@midnight", "@Midnight"] {
            let schedule = Schedule::parse(expression).unwrap();
            let next = schedule.next_after(at("2022-10-12T10:41:00.000+00:00"));
            assert_eq!(
                next,
                Some(at("2022-10-13T00:00:00.000+00:00")),
                "{expression}"
            );
        }
        for expression in ["@yearly", "@annually", "@monthly", "@weekly", "@hourly"] {
            assert!(Schedule::parse(expression).is_ok(), "{expression}");
        }
    }

    #[test]
    fn month_ends_and_names() {
        let schedule = Schedule::parse("0 12 L * *").unwrap();
        assert_eq!(
            schedule.next_after(at("2023-02-10T00:00:00.000+00:00")),
            Some(at("2023-02-28T12:00:00.000+00:00"))
        );
        assert!(Schedule::parse("0 0 * JAN-MAR MON,FRI").is_ok());
    }

    #[test]
    fn edges_of_months_years_and_leap_days() {
        let new_year = Schedule::parse("@yearly").unwrap();
        assert_eq!(
            new_year.next_after(at("2023-12-31T23:59:59.999+00:00")),
            Some(at("2024-01-01T00:00:00.000+00:00"))
        );
        let leap = Schedule::parse("0 0 29 2 *").unwrap();
        assert_eq!(
            leap.next_after(at("2023-03-01T00:00:00.000+00:00")),
            Some(at("2024-02-29T00:00:00.000+00:00"))
        );
        let thirty_first = Schedule::parse("30 6 31 * *").unwrap();
        assert_eq!(
            thirty_first.next_after(at("2023-04-01T00:00:00.000+00:00")),
            Some(at("2023-05-31T06:30:00.000+00:00")),
            "April has no 31st"
        );
    }

    #[test]
    fn previous_slots() {
        let every_five = Schedule::parse("*/5 * * * *").unwrap();
        assert_eq!(
            every_five.previous_at_or_before(at("2022-10-12T21:53:10.000+00:00")),
            Some(at("2022-10-12T21:50:00.000+00:00"))
        );
        assert_eq!(
            every_five.previous_at_or_before(at("2022-10-12T21:50:00.000+00:00")),
            Some(at("2022-10-12T21:50:00.000+00:00"))
        );
        let monthly = Schedule::parse("@monthly").unwrap();
        assert_eq!(
            monthly.previous_at_or_before(at("2024-03-01T00:00:00.500+00:00")),
            Some(at("2024-03-01T00:00:00.000+00:00"))
        );
    }

    #[test]
    fn refuses_wrong_field_counts_and_garbage() {
        for expression in [
            "* * * *",
            "0 * * * * *",
            "0 0 * * * * *",
            "every day",
            "61 * * * *",
            "@often",
            "",
        ] {
            assert!(Schedule::parse(expression).is_err(), "{expression:?}");
        }
    }
}
