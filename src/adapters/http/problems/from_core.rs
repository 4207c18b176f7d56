//! Adapters layer (HTTP): the one place where each outcome of a use case becomes a problem
//! (one status, one code). A fault is logged here, once, with its cause; the client only ever
//! sees an opaque `internal_error`. May depend on the core's error types.

use super::problem::ApiError;
use crate::core::audit::ListAuditEventsError;
use crate::core::auth::{
    AuthenticateError, ChangePasswordError, ConfirmTotpError, DisableTotpError, EndSessionError,
    ForgetDeviceError, LoginError, RefreshError, RegenerateRecoveryCodesError, RegisterError,
    ResendCodeError, ResetPasswordError, SetUpTotpError, VerifyCodeError, VerifyEmailError,
};
use crate::core::catalogue::ProductError;
use crate::core::model::{NotAManager, ValidationErrors};
use crate::core::orders::OrderError;
use crate::core::people::{AdministrationError, DeleteOwnAccountError};
use crate::core::ports::StoreError;
use crate::core::profile::ProfileError;

/// Logs a fault with its whole chain of causes and hides it behind `internal_error` — or,
/// when a store call ran out of time, `store_timeout` (503 with `Retry-After`): the service
/// is fine, the store is sick, and the client may retry. The log line sits inside the
/// request's span, so it carries the request id the client was given.
pub(crate) fn fault(error: anyhow::Error) -> ApiError {
    if StoreError::timed_out_in(&error) {
        tracing::warn!(error = %format!("{error:#}"), "request failed: the store timed out");
        return ApiError::StoreTimeout;
    }
    tracing::error!(error = %format!("{error:#}"), "request failed");
    ApiError::Internal
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        fault(error)
    }
}

/// A managers-only operation called by somebody else.
impl From<NotAManager> for ApiError {
    fn from(_: NotAManager) -> Self {
        ApiError::Forbidden
    }
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::Invalid(errors) => ApiError::ValidationFailed(errors),
            RegisterError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ListAuditEventsError> for ApiError {
    fn from(error: ListAuditEventsError) -> Self {
        match error {
            ListAuditEventsError::Invalid(errors) => ApiError::ValidationFailed(errors),
            ListAuditEventsError::Unexpected(error) => fault(error),
        }
    }
}

impl From<VerifyEmailError> for ApiError {
    fn from(error: VerifyEmailError) -> Self {
        match error {
            VerifyEmailError::InvalidToken => ApiError::InvalidToken,
            VerifyEmailError::Unexpected(error) => fault(error),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => ApiError::InvalidCredentials,
            LoginError::PendingApproval => ApiError::AccountPendingApproval,
            LoginError::Suspended => ApiError::AccountSuspended,
            LoginError::Throttled {
                retry_after_seconds,
            } => ApiError::LoginThrottled {
                retry_after_seconds,
            },
            LoginError::Unexpected(error) => fault(error),
        }
    }
}

impl From<VerifyCodeError> for ApiError {
    fn from(error: VerifyCodeError) -> Self {
        match error {
            VerifyCodeError::InvalidCode => ApiError::InvalidCode,
            VerifyCodeError::TooManyAttempts => ApiError::TooManyAttempts,
            VerifyCodeError::Throttled {
                retry_after_seconds,
            } => ApiError::SecondFactorThrottled {
                retry_after_seconds,
            },
            VerifyCodeError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ResendCodeError> for ApiError {
    fn from(error: ResendCodeError) -> Self {
        match error {
            // The contract answers an unknown or finished challenge like a wrong code.
            ResendCodeError::InvalidChallenge => ApiError::InvalidCode,
            ResendCodeError::TooSoon {
                retry_after_seconds,
            } => ApiError::ResendTooSoon {
                retry_after_seconds,
            },
            ResendCodeError::Unexpected(error) => fault(error),
        }
    }
}

impl From<RefreshError> for ApiError {
    fn from(error: RefreshError) -> Self {
        match error {
            RefreshError::InvalidToken => ApiError::InvalidRefreshToken,
            RefreshError::Unexpected(error) => fault(error),
        }
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(error: AuthenticateError) -> Self {
        match error {
            AuthenticateError::Unauthenticated => ApiError::Unauthenticated,
            AuthenticateError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ResetPasswordError> for ApiError {
    fn from(error: ResetPasswordError) -> Self {
        match error {
            ResetPasswordError::InvalidToken => ApiError::InvalidToken,
            ResetPasswordError::Invalid(errors) => ApiError::ValidationFailed(errors),
            ResetPasswordError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(error: ChangePasswordError) -> Self {
        match error {
            ChangePasswordError::WrongPassword => ApiError::WrongPassword,
            ChangePasswordError::Invalid(errors) => ApiError::ValidationFailed(errors),
            ChangePasswordError::Throttled {
                retry_after_seconds,
            } => ApiError::LoginThrottled {
                retry_after_seconds,
            },
            ChangePasswordError::Unexpected(error) => fault(error),
        }
    }
}

impl From<EndSessionError> for ApiError {
    fn from(error: EndSessionError) -> Self {
        match error {
            EndSessionError::NotFound => ApiError::NotFound,
            EndSessionError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ProfileError> for ApiError {
    fn from(error: ProfileError) -> Self {
        match error {
            // The account was deleted while one of its access tokens was still live.
            ProfileError::NotFound => ApiError::NotFound,
            ProfileError::Invalid(errors) => ApiError::ValidationFailed(errors),
            ProfileError::Unexpected(error) => fault(error),
        }
    }
}

impl From<AdministrationError> for ApiError {
    fn from(error: AdministrationError) -> Self {
        match error {
            AdministrationError::NotFound => ApiError::NotFound,
            AdministrationError::Invalid(errors) => ApiError::ValidationFailed(errors),
            AdministrationError::LastActiveManager => ApiError::LastActiveManager,
            AdministrationError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ProductError> for ApiError {
    fn from(error: ProductError) -> Self {
        match error {
            ProductError::NotFound => ApiError::NotFound,
            ProductError::Invalid(errors) => ApiError::ValidationFailed(errors),
            ProductError::Unexpected(error) => fault(error),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(error: OrderError) -> Self {
        match error {
            OrderError::NotFound => ApiError::NotFound,
            OrderError::Forbidden => ApiError::Forbidden,
            OrderError::InvalidTransition => ApiError::InvalidTransition,
            OrderError::NotAssignable => ApiError::OrderNotAssignable,
            OrderError::InvalidDeliveryCode => ApiError::InvalidDeliveryCode,
            OrderError::DeliveryCodeLocked => ApiError::DeliveryCodeLocked,
            OrderError::Conflict => ApiError::Conflict,
            OrderError::Invalid(errors) => ApiError::ValidationFailed(errors),
            OrderError::Unexpected(error) => fault(error),
        }
    }
}

/// A wrong code on a signed-in user's own settings is a 422 naming the field, not a 401: on
/// these bearer-secured operations a 401 means the session itself is not valid, and a client
/// would drop a perfectly good session. (A wrong current password is the 403 `wrong_password`
/// on every signed-in call, for the same reason.)
fn wrong_field(field: &str, message: &str) -> ApiError {
    let mut errors = ValidationErrors::new();
    errors.add(field, message);
    ApiError::ValidationFailed(errors)
}

const WRONG_CODE: &str = "the code is wrong or was already used; wait for the next one";

impl From<SetUpTotpError> for ApiError {
    fn from(error: SetUpTotpError) -> Self {
        match error {
            SetUpTotpError::AlreadyEnabled => ApiError::TotpAlreadyEnabled,
            SetUpTotpError::WrongPassword => ApiError::WrongPassword,
            SetUpTotpError::PasswordThrottled {
                retry_after_seconds,
            } => ApiError::LoginThrottled {
                retry_after_seconds,
            },
            SetUpTotpError::NotFound => ApiError::NotFound,
            SetUpTotpError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ConfirmTotpError> for ApiError {
    fn from(error: ConfirmTotpError) -> Self {
        match error {
            ConfirmTotpError::NoPendingSetup => ApiError::TotpNotSetUp,
            ConfirmTotpError::InvalidCode => wrong_field("code", WRONG_CODE),
            ConfirmTotpError::Throttled {
                retry_after_seconds,
            } => ApiError::SecondFactorThrottled {
                retry_after_seconds,
            },
            ConfirmTotpError::Unexpected(error) => fault(error),
        }
    }
}

impl From<DisableTotpError> for ApiError {
    fn from(error: DisableTotpError) -> Self {
        match error {
            DisableTotpError::NotEnabled => ApiError::TotpNotEnabled,
            DisableTotpError::WrongPassword => ApiError::WrongPassword,
            DisableTotpError::PasswordThrottled {
                retry_after_seconds,
            } => ApiError::LoginThrottled {
                retry_after_seconds,
            },
            DisableTotpError::InvalidCode => wrong_field("code", WRONG_CODE),
            DisableTotpError::Throttled {
                retry_after_seconds,
            } => ApiError::SecondFactorThrottled {
                retry_after_seconds,
            },
            DisableTotpError::Unexpected(error) => fault(error),
        }
    }
}

impl From<ForgetDeviceError> for ApiError {
    fn from(error: ForgetDeviceError) -> Self {
        match error {
            ForgetDeviceError::NotFound => ApiError::NotFound,
            ForgetDeviceError::Unexpected(error) => fault(error),
        }
    }
}

impl From<DeleteOwnAccountError> for ApiError {
    fn from(error: DeleteOwnAccountError) -> Self {
        match error {
            DeleteOwnAccountError::WrongPassword => ApiError::WrongPassword,
            DeleteOwnAccountError::Throttled {
                retry_after_seconds,
            } => ApiError::LoginThrottled {
                retry_after_seconds,
            },
            DeleteOwnAccountError::NotFound => ApiError::NotFound,
            DeleteOwnAccountError::LastActiveManager => ApiError::LastActiveManager,
            DeleteOwnAccountError::Unexpected(error) => fault(error),
        }
    }
}

impl From<RegenerateRecoveryCodesError> for ApiError {
    fn from(error: RegenerateRecoveryCodesError) -> Self {
        match error {
            RegenerateRecoveryCodesError::TotpNotEnabled => ApiError::TotpNotEnabled,
            RegenerateRecoveryCodesError::WrongPassword => ApiError::WrongPassword,
            RegenerateRecoveryCodesError::PasswordThrottled {
                retry_after_seconds,
            } => ApiError::LoginThrottled {
                retry_after_seconds,
            },
            RegenerateRecoveryCodesError::Unexpected(error) => fault(error),
        }
    }
}
