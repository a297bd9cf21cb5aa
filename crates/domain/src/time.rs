//! Instants and the two wire formats every face shares: `Y-m-d` and `Y-m-d H:i:s` in a configured zone.

use jiff::{Timestamp, civil, tz::TimeZone};

/// Seconds since the Unix epoch, UTC: how instants are stored.
pub type UnixSeconds = i64;

/// The time zone that local dates and times on the wire are read and written in.
#[derive(Debug, Clone)]
pub struct Zone(pub TimeZone);

impl Zone {
    /// Looks up an IANA zone name such as `Europe/Moscow`.
    pub fn named(name: &str) -> Result<Self, String> {
        TimeZone::get(name).map(Zone).map_err(|e| format!("unknown time zone {name}: {e}"))
    }

    /// Formats an instant as `Y-m-d H:i:s` in this zone.
    pub fn datetime(&self, secs: UnixSeconds) -> String {
        match Timestamp::from_second(secs) {
            Ok(ts) => ts.to_zoned(self.0.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
            Err(_) => String::new(),
        }
    }

    /// Formats the calendar date of an instant as `Y-m-d` in this zone.
    pub fn date(&self, secs: UnixSeconds) -> String {
        match Timestamp::from_second(secs) {
            Ok(ts) => ts.to_zoned(self.0.clone()).strftime("%Y-%m-%d").to_string(),
            Err(_) => String::new(),
        }
    }

    /// Parses `Y-m-d H:i:s` (or `Y-m-d`, meaning its first second) in this zone.
    pub fn parse_start(&self, text: &str) -> Option<UnixSeconds> {
        self.parse(text, civil::Time::midnight())
    }

    /// Parses `Y-m-d H:i:s` (or `Y-m-d`, meaning its last second) in this zone: the inclusive end of a range.
    pub fn parse_end(&self, text: &str) -> Option<UnixSeconds> {
        self.parse(text, civil::time(23, 59, 59, 0))
    }

    /// Formats an instant as `Y-m-d H:i:sP` (`2024-05-08 15:10:30+03:00`) in this zone: the form
    /// RetailCRM's customer-interaction carts use.
    pub fn datetime_with_offset(&self, secs: UnixSeconds) -> String {
        match Timestamp::from_second(secs) {
            Ok(ts) => ts.to_zoned(self.0.clone()).strftime("%Y-%m-%d %H:%M:%S%:z").to_string(),
            Err(_) => String::new(),
        }
    }

    /// Parses `Y-m-d H:i:sP` (an offset given) or `Y-m-d H:i:s` (in this zone).
    pub fn parse_with_offset(&self, text: &str) -> Option<UnixSeconds> {
        let text = text.trim();
        match Timestamp::strptime("%Y-%m-%d %H:%M:%S%:z", text) {
            Ok(ts) => Some(ts.as_second()),
            Err(_) => self.parse_start(text).filter(|_| text.len() > 10),
        }
    }

    fn parse(&self, text: &str, time_of_date: civil::Time) -> Option<UnixSeconds> {
        let text = text.trim();
        // Only a text with a colon can hold a time of day: a bare date skips the attempt, whose error
        // (built with its message) cost more than the date's own parse.
        let civil = if let Some(dt) =
            text.contains(':').then(|| civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text).ok()).flatten()
        {
            dt
        } else {
            civil::Date::strptime("%Y-%m-%d", text).ok()?.to_datetime(time_of_date)
        };
        // As `to_zoned` would (its `compatible` choice in a gap or a fold), without the zone's copy:
        // the count it shares was a visible cost with every request of a filtered list cloning it.
        self.0.to_ambiguous_timestamp(civil).compatible().ok().map(|t| t.as_second())
    }
}

/// Parses a plain calendar date `Y-m-d`.
pub fn parse_date(text: &str) -> Option<civil::Date> {
    civil::Date::strptime("%Y-%m-%d", text.trim()).ok()
}

/// A time of day `H:i` or `H:i:s` as `HH:MM`, the form delivery times compare in (minutes are their
/// finest grain).
pub fn time_of_day(text: &str) -> Option<String> {
    let text = text.trim();
    let t = civil::Time::strptime("%H:%M:%S", text).or_else(|_| civil::Time::strptime("%H:%M", text)).ok()?;
    Some(t.strftime("%H:%M").to_string())
}

/// The current instant.
pub fn now() -> UnixSeconds {
    Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_read_and_written() {
        let z = Zone::named("Europe/Moscow").unwrap();
        let t = z.parse_with_offset("2024-05-08 15:10:30-05:00").unwrap();
        assert_eq!(z.datetime_with_offset(t), "2024-05-08 23:10:30+03:00");
        assert_eq!(z.parse_with_offset("2024-05-08 23:10:30"), Some(t));
        assert_eq!(z.parse_with_offset("2024-05-08"), None);
    }

    #[test]
    fn moscow_round_trip() {
        let z = Zone::named("Europe/Moscow").unwrap();
        let t = z.parse_start("2014-03-21 05:14:07").unwrap();
        assert_eq!(z.datetime(t), "2014-03-21 05:14:07");
        assert_eq!(z.date(t), "2014-03-21");
        assert_eq!(z.parse_end("2014-03-21").unwrap() - z.parse_start("2014-03-21").unwrap(), 86_399);
        assert!(z.parse_start("2014-13-01").is_none());
        // A time that is not one, or text after a date, is no date either.
        assert!(z.parse_start("2014-03-21 25:00:00").is_none());
        assert!(z.parse_start("2014-03-21 noon").is_none());
        assert!(z.parse_end("2014-03-21 05:14").is_none());
    }

    #[test]
    fn a_time_in_a_gap_or_a_fold_is_read_as_a_zoned_time_reads_it() {
        let z = Zone::named("Europe/Berlin").unwrap();
        for text in ["2024-03-31 02:30:00", "2024-10-27 02:30:00", "2024-06-01 12:00:00"] {
            let civil = civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text).unwrap();
            let zoned = civil.to_zoned(z.0.clone()).unwrap().timestamp().as_second();
            assert_eq!(z.parse_start(text), Some(zoned), "{text}");
        }
    }

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day("9:05").as_deref(), Some("09:05"));
        assert_eq!(time_of_day(" 18:30:59 ").as_deref(), Some("18:30"));
        assert_eq!(time_of_day("25:00"), None);
        assert_eq!(time_of_day("noon"), None);
    }
}
