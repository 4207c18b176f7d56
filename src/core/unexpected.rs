//! Core layer: how a port's failure becomes a use case's `Unexpected` outcome. Depends only on
//! the ports' error types.
//!
//! A store that lost its connection, a hash that could not be computed: no business rule acts
//! on these, so every use-case error carries them in one `Unexpected(anyhow::Error)` variant.
//! The conversion lives here once, so a use case writes `store.call().await?` and reads like
//! its rule.

use super::ports::{AccessTokenError, HashingError, MailError, StoreError, TotpError};

/// A failure of a port that no use case decides anything on.
pub trait PortFailure: std::error::Error + Send + Sync + 'static {}

impl PortFailure for StoreError {}
impl PortFailure for HashingError {}
impl PortFailure for MailError {}
impl PortFailure for TotpError {}
impl PortFailure for AccessTokenError {}

/// Lets every port failure convert into each named use-case error's `Unexpected` variant (an
/// `anyhow::Error`), keeping the failure as the cause.
macro_rules! port_failures_are_unexpected {
    ($($error:ty),+ $(,)?) => {
        $(
            impl<F: $crate::core::unexpected::PortFailure> From<F> for $error {
                fn from(failure: F) -> Self {
                    Self::Unexpected(::anyhow::Error::new(failure))
                }
            }
        )+
    };
}
pub(crate) use port_failures_are_unexpected;

#[cfg(test)]
mod tests {
    use thiserror::Error;

    use super::*;

    #[derive(Debug, Error)]
    enum ExampleError {
        #[error("refused")]
        Refused,
        #[error(transparent)]
        Unexpected(#[from] anyhow::Error),
    }
    port_failures_are_unexpected!(ExampleError);

    fn failing_store() -> Result<(), StoreError> {
        Err(StoreError::new(anyhow::anyhow!("connection reset")))
    }

    fn use_case(refuse: bool) -> Result<(), ExampleError> {
        if refuse {
            return Err(ExampleError::Refused);
        }
        failing_store()?;
        Ok(())
    }

    #[test]
    fn a_store_failure_becomes_unexpected_with_its_cause_kept() {
        let Err(ExampleError::Unexpected(error)) = use_case(false) else {
            panic!("a store failure must be unexpected");
        };

        assert_eq!(format!("{error:#}"), "store failure: connection reset");
    }

    #[test]
    fn business_outcomes_are_untouched() {
        assert!(matches!(use_case(true), Err(ExampleError::Refused)));
    }
}
