//! Adapters layer (HTTP): how an operation declares its responses, once. `responses!` writes
//! both the `ApiResponse` enum that poem-openapi publishes and the mapping of every problem to
//! the variant of its status, from one list, so the two cannot drift apart. The answers many
//! operations share (401 with `WWW-Authenticate`, 429 with `Retry-After`, 500, the common 400s,
//! 413…) are written here once and named in each declaration.

/// Declares the responses of one operation, in the order of the OpenAPI document:
///
/// ```text
/// responses! {
///     pub enum LogoutResponse {
///         /// Signed out.
///         204 SignedOut,
///         401 unauthenticated,
///         /// Too many wrong passwords for this account lately (`login_throttled`).
///         429 TooManyRequests(problem),
///         500 internal_error,
///         503 store_timeout,
///     }
/// }
/// ```
///
/// Each entry ends with a comma and is one of:
/// - `STATUS Variant` or `STATUS Variant(Payload)`, under its doc comment: a success;
/// - `STATUS Variant(problem)`, under its doc comment: a problem described for this operation
///   (every 429 also documents `Retry-After`, which every 429 carries);
/// - `STATUS name`: a standard problem response, whose text is below; the status is checked.
///
/// The doc comments are the descriptions published in the document. Every operation that reaches
/// the store declares `503 store_timeout` (every store call has a time limit). Every operation
/// declares a 500 named `InternalError`: a problem whose status the operation does not declare is a bug of
/// ours; it is logged and answered as a 500, so the answer stays within the published contract.
/// Declaring one status twice is refused by the compiler (an unreachable pattern).
macro_rules! responses {
    // ---- the standard problem responses, each text written once ----
    (@entry $enum:tt $variants:tt $arms:tt 400 malformed_body, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The body is malformed (`malformed_request`).
            400 BadRequest(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 400 malformed_json, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The body is not valid JSON, has a field of the wrong type or an unknown one
            /// (`malformed_request`).
            400 BadRequest(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 400 malformed_id, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The id is not a UUID (`malformed_request`).
            400 BadRequest(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 400 malformed_id_or_json, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The id is not a UUID, or the body is not valid JSON, has a field of the wrong type or
            /// an unknown one (`malformed_request`).
            400 BadRequest(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 400 malformed_query, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// A query parameter has the wrong type, such as a `limit` that is not a number
            /// (`malformed_request`).
            400 BadRequest(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 401 unauthenticated, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@problem $enum $variants $arms [
            /// The bearer token is missing, invalid, expired or of an ended session
            /// (`unauthenticated`).
        ] 401 Unauthenticated [
            // RFC 6750 §3: the 401 of a bearer-secured operation names the scheme to use.
            , header(
                name = "WWW-Authenticate",
                ty = "String",
                description = "`Bearer`: the authentication scheme to use."
            )
        ] $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 403 not_a_manager, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The caller is not a manager (`forbidden`).
            403 Forbidden(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 404 account_gone, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The account no longer exists (`not_found`).
            404 NotFound(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 413 payload_too_large, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// The body is over the size limit (`payload_too_large`).
            413 PayloadTooLarge(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 422 invalid_fields, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// Some fields are invalid (`validation_failed`); `errors` lists them all.
            422 Invalid(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 429 rate_limited, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// Too many requests from this IP address (`rate_limited`).
            429 TooManyRequests(problem), $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 503 store_timeout, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@problem $enum $variants $arms [
            /// The data store did not answer within its time limit (`store_timeout`); the
            /// request may or may not have taken effect. Retry after `Retry-After` seconds.
        ] 503 ServiceUnavailable [
            // Every `store_timeout` carries one (`ApiError::retry_after_seconds`).
            , header(
                name = "Retry-After",
                ty = "u64",
                description = "Seconds to wait before trying again."
            )
        ] $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt 500 internal_error, $($rest:tt)*) => {
        $crate::adapters::http::problems::responses!(@entry $enum $variants $arms
            /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
            500 InternalError(problem), $($rest)*);
    };

    // ---- a problem described by the operation ----
    (@entry $enum:tt $variants:tt $arms:tt
        $(#[$doc:meta])* 429 $variant:ident(problem), $($rest:tt)*
    ) => {
        $crate::adapters::http::problems::responses!(@problem $enum $variants $arms
            [$(#[$doc])*] 429 $variant [
                // Every 429 carries one (`ApiError::retry_after_seconds`).
                , header(
                    name = "Retry-After",
                    ty = "u64",
                    description = "Seconds to wait before trying again."
                )
            ] $($rest)*);
    };
    (@entry $enum:tt $variants:tt $arms:tt
        $(#[$doc:meta])* $status:literal $variant:ident(problem), $($rest:tt)*
    ) => {
        $crate::adapters::http::problems::responses!(@problem $enum $variants $arms
            [$(#[$doc])*] $status $variant [] $($rest)*);
    };

    // ---- a success ----
    (@entry $enum:tt { $($variants:tt)* } $arms:tt
        $(#[$doc:meta])* $status:literal $variant:ident $(($payload:ty))?, $($rest:tt)*
    ) => {
        $crate::adapters::http::problems::responses!(@entry $enum {
            $($variants)*
            $(#[$doc])*
            #[oai(status = $status)]
            $variant $(($payload))?,
        } $arms $($rest)*);
    };

    // A problem variant: declared in the enum, and the target of its status in the mapping.
    (@problem $enum:tt { $($variants:tt)* } { $($arms:tt)* }
        [$(#[$doc:meta])*] $status:literal $variant:ident [$($header:tt)*] $($rest:tt)*
    ) => {
        $crate::adapters::http::problems::responses!(@entry $enum {
            $($variants)*
            $(#[$doc])*
            #[oai(status = $status $($header)*)]
            $variant($crate::adapters::http::problems::ApiError),
        } {
            $($arms)*
            $status => $variant,
        } $($rest)*);
    };

    // Every entry read: the enum and its mapping.
    (@entry ($name:ident) { $($variants:tt)* } { $($status:literal => $variant:ident,)* }) => {
        #[derive(::poem_openapi::ApiResponse)]
        #[oai(bad_request_handler = "crate::adapters::http::problems::rejected_request")]
        pub enum $name {
            $($variants)*
        }

        impl ::std::convert::From<$crate::adapters::http::problems::ApiError> for $name {
            fn from(error: $crate::adapters::http::problems::ApiError) -> Self {
                match error.status().as_u16() {
                    $($status => Self::$variant(error),)*
                    status => {
                        ::tracing::error!(
                            status,
                            response = stringify!($name),
                            "problem status not declared by this operation"
                        );
                        Self::InternalError($crate::adapters::http::problems::ApiError::Internal)
                    }
                }
            }
        }
    };

    (pub enum $name:ident { $($entries:tt)* }) => {
        $crate::adapters::http::problems::responses!(@entry ($name) {} {} $($entries)*);
    };
}
pub(crate) use responses;
