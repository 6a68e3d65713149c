use std::fmt;

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::ImageId;

/// RFC 3339, UTC, always milliseconds: fixed width, so text order is time order, which the
/// DynamoDB sort keys rely on.
const FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

const NANOS_PER_MS: i128 = 1_000_000;
/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the range the format can express.
const MIN_MS: i128 = -62_167_219_200_000;
const MAX_MS: i128 = 253_402_300_799_999;

/// When an image was created, in whole milliseconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_unix_ms(
            OffsetDateTime::now_utc()
                .unix_timestamp_nanos()
                .div_euclid(NANOS_PER_MS),
        )
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(self) -> i64 {
        (self.0.unix_timestamp_nanos() / NANOS_PER_MS) as i64
    }

    fn from_unix_ms(ms: i128) -> Self {
        let ms = ms.clamp(MIN_MS, MAX_MS);
        Self(
            OffsetDateTime::from_unix_timestamp_nanos(ms * NANOS_PER_MS)
                .expect("clamped to the supported range"),
        )
    }

    /// Parses exactly the stored form (`2026-11-24T23:45:24.123Z`).
    pub fn parse_stored(raw: &str) -> Option<Self> {
        PrimitiveDateTime::parse(raw, FORMAT)
            .ok()
            .map(|t| Self(t.assume_utc()))
    }

    /// The earliest stored timestamp strictly after `instant` (which may carry nanoseconds).
    pub fn first_after(instant: OffsetDateTime) -> Self {
        Self::from_unix_ms(instant.unix_timestamp_nanos().div_euclid(NANOS_PER_MS) + 1)
    }

    /// The latest stored timestamp strictly before `instant`.
    pub fn last_before(instant: OffsetDateTime) -> Self {
        let nanos = instant.unix_timestamp_nanos();
        let ceil_ms = -((-nanos).div_euclid(NANOS_PER_MS));
        Self::from_unix_ms(ceil_ms - 1)
    }

    /// `duration` later, in whole milliseconds (saturating at the latest expressible time).
    pub fn plus(self, duration: std::time::Duration) -> Self {
        Self::from_unix_ms(
            self.0.unix_timestamp_nanos().div_euclid(NANOS_PER_MS)
                + i128::try_from(duration.as_millis()).unwrap_or(i128::MAX / 2),
        )
    }

    pub fn as_offset(self) -> OffsetDateTime {
        self.0
    }

    pub fn min() -> Self {
        Self::from_unix_ms(MIN_MS)
    }

    pub fn max() -> Self {
        Self::from_unix_ms(MAX_MS)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// Where an image sits in a listing: by creation time, ties broken by id (newest first means
/// descending). Stored as `{created_at}#{id}`, whose plain text order is this order, since
/// timestamps are fixed-width and ids lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey {
    created_at: Timestamp,
    id: ImageId,
}

impl SortKey {
    pub fn new(created_at: Timestamp, id: ImageId) -> Self {
        Self { created_at, id }
    }

    /// The stored text form.
    pub fn parse(raw: &str) -> Option<Self> {
        let (at, id) = raw.split_once('#')?;
        Some(Self::new(Timestamp::parse_stored(at)?, id.parse().ok()?))
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    pub fn id(&self) -> ImageId {
        self.id
    }
}

impl fmt::Display for SortKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.created_at, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let t = Timestamp::parse_stored("2026-11-24T23:45:24.123Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-24T23:45:24.123Z");
        assert!(Timestamp::parse_stored("2026-11-24T23:45:24Z").is_none());
        assert_eq!(Timestamp::now().to_string().len(), 24);
    }

    #[test]
    fn exclusive_bounds_round_to_the_right_millisecond() {
        let on_ms = datetime!(2026-01-01 00:00:00.005 UTC);
        let off_ms = datetime!(2026-01-01 00:00:00.0053 UTC);
        assert_eq!(
            Timestamp::first_after(on_ms).to_string(),
            "2026-01-01T00:00:00.006Z"
        );
        assert_eq!(
            Timestamp::first_after(off_ms).to_string(),
            "2026-01-01T00:00:00.006Z"
        );
        assert_eq!(
            Timestamp::last_before(on_ms).to_string(),
            "2026-01-01T00:00:00.004Z"
        );
        assert_eq!(
            Timestamp::last_before(off_ms).to_string(),
            "2026-01-01T00:00:00.005Z"
        );
        let far = datetime!(0000-01-01 00:00:00 +01:00);
        assert_eq!(Timestamp::last_before(far), Timestamp::min());
    }

    #[test]
    fn sort_keys_order_by_time_then_id_as_their_text_does() {
        let t = Timestamp::parse_stored("2026-11-24T23:45:24.123Z").unwrap();
        let later = Timestamp::parse_stored("2026-11-24T23:45:24.124Z").unwrap();
        let keys = [
            SortKey::new(t, "00000000-0000-4000-8000-000000000000".parse().unwrap()),
            SortKey::new(t, "0fffffff-ffff-4fff-bfff-ffffffffffff".parse().unwrap()),
            SortKey::new(t, "a0000000-0000-4000-8000-000000000000".parse().unwrap()),
            SortKey::new(
                later,
                "00000000-0000-4000-8000-000000000000".parse().unwrap(),
            ),
        ];
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].to_string() < pair[1].to_string());
        }
        let a = keys[0];
        assert_eq!(SortKey::parse(&a.to_string()), Some(a));
        assert_eq!(a.id().to_string(), "00000000-0000-4000-8000-000000000000");
        assert_eq!(SortKey::parse("2026-11-24T23:45:24.123Z#nope"), None);
    }
}
