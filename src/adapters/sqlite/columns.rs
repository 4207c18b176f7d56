//! Adapters layer (SQLite): how domain values are written to and read from columns.
//! Times are INTEGER unix milliseconds UTC, ids TEXT UUIDs, digests 32-byte BLOBs. Reading is
//! checked: a value the domain would refuse is an error naming the column, never a panic.

use std::str::FromStr;

use anyhow::{Context, anyhow};
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Row;
use rusqlite::types::FromSql;

use crate::core::model::SecretDigest;

/// Milliseconds: the precision every store keeps (the system clock truncates to it), so a
/// time reads back exactly as written.
pub(super) fn millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

pub(super) fn optional_millis(time: Option<DateTime<Utc>>) -> Option<i64> {
    time.map(millis)
}

/// Reads one column, naming it in the error.
pub(super) fn column<T: FromSql>(row: &Row<'_>, name: &str) -> anyhow::Result<T> {
    row.get(name).with_context(|| format!("column `{name}`"))
}

pub(super) fn time_column(row: &Row<'_>, name: &str) -> anyhow::Result<DateTime<Utc>> {
    time_from_millis(column(row, name)?).with_context(|| format!("column `{name}`"))
}

pub(super) fn optional_time_column(
    row: &Row<'_>,
    name: &str,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let value: Option<i64> = column(row, name)?;
    value
        .map(time_from_millis)
        .transpose()
        .with_context(|| format!("column `{name}`"))
}

fn time_from_millis(value: i64) -> anyhow::Result<DateTime<Utc>> {
    Utc.timestamp_millis_opt(value)
        .single()
        .ok_or_else(|| anyhow!("{value} ms is not a representable time"))
}

/// A column holding a domain value as text, read back through the domain's own parser
/// (`Email::parse`, …): a stored value the domain refuses is corrupt.
pub(super) fn text_column<T, E: std::fmt::Display>(
    row: &Row<'_>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<T> {
    let text: String = column(row, name)?;
    parse(&text).map_err(|error| anyhow!("column `{name}`: {error}"))
}

/// `text_column` for values with a `FromStr` (`UserId`, `Role`, …).
pub(super) fn parsed_column<T>(row: &Row<'_>, name: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text_column(row, name, str::parse)
}

pub(super) fn optional_text_column<T, E: std::fmt::Display>(
    row: &Row<'_>,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> anyhow::Result<Option<T>> {
    let text: Option<String> = column(row, name)?;
    text.map(|text| parse(&text))
        .transpose()
        .map_err(|error| anyhow!("column `{name}`: {error}"))
}

pub(super) fn digest_column(row: &Row<'_>, name: &str) -> anyhow::Result<SecretDigest> {
    column(row, name).map(SecretDigest::from_bytes)
}
