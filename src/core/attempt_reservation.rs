//! Core layer: reserving one attempt on a throttle key before it is judged — read the key's
//! record, let the `LockoutRule` decide, write the decision back by compare-and-set, and start
//! over when another reservation got there first. Depends on the ports and the model only.

use chrono::{DateTime, Utc};

use super::model::{AttemptVerdict, SecretDigest};
use super::policy::LockoutRule;
use super::ports::{AttemptThrottleStore, StoreError};

/// What became of a request to judge one more attempt under a `LockoutRule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// The attempt was counted before being judged; judge it.
    Reserved,
    /// The key is locked until then; do not judge anything.
    Locked { until: DateTime<Utc> },
}

/// A reservation loses a round only when another one changed the record in between, and a key
/// takes at most `max_attempts` counts before it locks and reads stop writing: even 200
/// parallel guesses settle in a few rounds each. Past this many, something else is wrong.
const MAX_ROUNDS: u32 = 1_000;

/// Counts one attempt on `key` at `now` unless the key is locked. Of N concurrent calls on a
/// fresh key exactly min(N, `rule.max_attempts`) return `Reserved`: each count is one
/// compare-and-set against the record it was decided from, so no two counts decide from the
/// same record, and once the limit locks the key every later read says `Locked`.
pub async fn reserve_attempt(
    throttles: &dyn AttemptThrottleStore,
    key: &SecretDigest,
    rule: &LockoutRule,
    now: DateTime<Utc>,
) -> Result<ReserveOutcome, StoreError> {
    Ok(
        match reserve_counted_attempt(throttles, key, rule, now).await? {
            CountedAttempt::Counted { .. } => ReserveOutcome::Reserved,
            CountedAttempt::Locked { until } => ReserveOutcome::Locked { until },
        },
    )
}

/// `reserve_attempt`, telling also how many attempts the key holds with this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountedAttempt {
    /// The attempt was counted; it is the key's `attempts`-th since it was last fresh. Of
    /// concurrent reservations on a fresh key exactly one sees `attempts == 1`.
    Counted { attempts: u32 },
    /// The key is locked until then; do not judge anything.
    Locked { until: DateTime<Utc> },
}

/// Counts one attempt on `key` like `reserve_attempt`, and reports the count it stored.
pub async fn reserve_counted_attempt(
    throttles: &dyn AttemptThrottleStore,
    key: &SecretDigest,
    rule: &LockoutRule,
    now: DateTime<Utc>,
) -> Result<CountedAttempt, StoreError> {
    for _ in 0..MAX_ROUNDS {
        let stored = throttles.throttle_record(key).await?;
        match rule.judge_attempt(stored.as_ref(), now) {
            AttemptVerdict::Locked { until } => return Ok(CountedAttempt::Locked { until }),
            AttemptVerdict::Count(record) => {
                if throttles
                    .replace_throttle_record(key, stored.as_ref(), &record)
                    .await?
                {
                    return Ok(CountedAttempt::Counted {
                        attempts: record.attempts,
                    });
                }
            }
        }
    }
    Err(StoreError::new(anyhow::anyhow!(
        "the throttle record kept changing under {MAX_ROUNDS} reservations"
    )))
}
