//! Adapters layer (MongoDB): how domain values are written to and read from BSON fields.
//! Times are BSON dates (UTC milliseconds), ids BSON binary UUIDs (subtype 4), digests 32-byte
//! BSON binaries, counters 64-bit integers. Reading is checked: a value the domain would refuse
//! is an error naming the field, never a panic.

use anyhow::{Context, anyhow};
use chrono::{DateTime, TimeZone, Utc};
use mongodb::bson::{self, Binary, spec::BinarySubtype};
use uuid::Uuid;

use crate::core::model::SecretDigest;

/// `text` as a regular expression that matches exactly it (a search is plain text): every
/// metacharacter is escaped, so a search for `.*` matches only text containing `.*`. MongoDB
/// refuses a pattern with an embedded NUL byte (error 51091) — a `?q=%00` would answer 500 —
/// so NUL is written as the escape `\x00`, which matches that same character.
pub(super) fn literal_regex(text: &str) -> String {
    let mut regex = String::with_capacity(text.len());
    for character in text.chars() {
        if character == '\0' {
            regex.push_str("\\x00");
            continue;
        }
        if "\\^$.|?*+()[]{}/-#".contains(character) {
            regex.push('\\');
        }
        regex.push(character);
    }
    regex
}

/// Milliseconds: the precision every store keeps (the system clock truncates to it), so a
/// time reads back exactly as written.
pub(super) fn bson_time(time: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(time.timestamp_millis())
}

pub(super) fn optional_bson_time(time: Option<DateTime<Utc>>) -> Option<bson::DateTime> {
    time.map(bson_time)
}

/// A BSON date back as a domain time. BSON dates span ±292 million years, chrono's ±262,000
/// years: a date outside chrono's range can only be corruption.
pub(super) fn domain_time(field: &str, time: bson::DateTime) -> anyhow::Result<DateTime<Utc>> {
    let millis = time.timestamp_millis();
    Utc.timestamp_millis_opt(millis)
        .single()
        .ok_or_else(|| anyhow!("field `{field}`: {millis} ms is not a representable time"))
}

pub(super) fn optional_domain_time(
    field: &str,
    time: Option<bson::DateTime>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    time.map(|time| domain_time(field, time)).transpose()
}

pub(super) fn bson_uuid(uuid: Uuid) -> bson::Uuid {
    bson::Uuid::from_bytes(uuid.into_bytes())
}

pub(super) fn domain_uuid(uuid: bson::Uuid) -> Uuid {
    Uuid::from_bytes(uuid.bytes())
}

pub(super) fn bson_digest(digest: &SecretDigest) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: digest.as_bytes().to_vec(),
    }
}

pub(super) fn domain_digest(field: &str, binary: &Binary) -> anyhow::Result<SecretDigest> {
    let bytes = <[u8; 32]>::try_from(binary.bytes.as_slice()).map_err(|_| {
        anyhow!(
            "field `{field}`: a digest of {} bytes, expected 32",
            binary.bytes.len()
        )
    })?;
    Ok(SecretDigest::from_bytes(bytes))
}

/// A stored counter back as the domain's `u32`; a negative or oversized one is corrupt.
pub(super) fn domain_count(field: &str, count: i64) -> anyhow::Result<u32> {
    u32::try_from(count).with_context(|| format!("field `{field}`: {count} is not a valid count"))
}

/// A field holding a domain value as text, read back through the domain's own parser
/// (`Email::parse`, `str::parse::<Role>`, …): a stored value the domain refuses is corrupt.
pub(super) fn parsed_field<T, E: std::fmt::Display>(
    field: &str,
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<T> {
    parse(text).map_err(|error| anyhow!("field `{field}`: {error}"))
}

pub(super) fn optional_parsed_field<T, E: std::fmt::Display>(
    field: &str,
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<Option<T>> {
    text.map(|text| parsed_field(field, text, parse))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_matched_as_plain_text() {
        assert_eq!(literal_regex("a.*(b)?"), "a\\.\\*\\(b\\)\\?");
        assert_eq!(literal_regex("amina@example"), "amina@example");
        assert_eq!(literal_regex("(x)[y]{z}"), "\\(x\\)\\[y\\]\\{z\\}");
    }

    #[test]
    fn a_nul_byte_never_reaches_the_pattern() {
        let pattern = literal_regex("a\0b");

        assert!(!pattern.contains('\0'), "{pattern:?}");
        assert_eq!(pattern, "a\\x00b");
    }

    #[test]
    fn a_millisecond_time_round_trips_exactly() {
        let time = Utc.timestamp_millis_opt(1_767_225_600_123).unwrap();

        let read = domain_time("at", bson_time(time)).unwrap();

        assert_eq!(read, time);
    }

    #[test]
    fn a_date_beyond_the_domain_range_is_corrupt() {
        let far = bson::DateTime::from_millis(i64::MAX);

        let error = domain_time("expires_at", far).unwrap_err();

        assert!(error.to_string().contains("field `expires_at`"), "{error}");
    }

    #[test]
    fn a_uuid_round_trips_as_binary_subtype_4() {
        let uuid = Uuid::now_v7();

        let stored = bson::Bson::from(bson_uuid(uuid));

        match &stored {
            bson::Bson::Binary(binary) => assert_eq!(binary.subtype, BinarySubtype::Uuid),
            other => panic!("expected a binary, got {other:?}"),
        }
        assert_eq!(domain_uuid(bson_uuid(uuid)), uuid);
    }

    #[test]
    fn a_digest_round_trips_and_a_short_one_is_corrupt() {
        let digest = SecretDigest::from_bytes([7; 32]);
        let short = Binary {
            subtype: BinarySubtype::Generic,
            bytes: vec![7; 31],
        };

        let read = domain_digest("code_digest", &bson_digest(&digest)).unwrap();
        let error = domain_digest("code_digest", &short).unwrap_err();

        assert_eq!(read, digest);
        assert!(error.to_string().contains("31 bytes"), "{error}");
    }

    #[test]
    fn counts_outside_u32_are_corrupt() {
        assert_eq!(domain_count("attempts", 4_294_967_295).unwrap(), u32::MAX);
        assert!(domain_count("attempts", -1).is_err());
        assert!(domain_count("attempts", 4_294_967_296).is_err());
    }
}
