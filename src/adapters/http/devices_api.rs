//! Adapters layer (HTTP): the signed-in user's remembered devices — listing and forgetting
//! them — through `RememberedDevices`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::HttpServices;
use super::devices_dto::DevicePage;
use super::errors::{problem_variants, rejected_request};
use super::problem::ApiError;
use super::security::BearerAuth;
use super::tags::ApiTags;
use crate::core::model::PageRequest;

pub struct DevicesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl DevicesApi {
    /// List my remembered devices
    ///
    /// The devices that skip the second factor at login (`remember_device` at
    /// `/auth/2fa/verify`), newest first; expired ones are not listed. A device's token is
    /// never shown again.
    #[oai(path = "/me/devices", method = "get", operation_id = "list_my_devices")]
    async fn list_my_devices(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// Items per page, 1 to 100 (default 20).
        limit: Query<Option<String>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListMyDevicesResponse {
        // A limit that is not a number is refused like one out of range: 422, not 400.
        let limit = limit.0.map(|raw| raw.trim().parse::<i64>().unwrap_or(0));
        let page = match PageRequest::parse(limit, cursor.0.as_deref()) {
            Ok(page) => page,
            Err(errors) => return ApiError::ValidationFailed(errors).into(),
        };
        match services
            .devices
            .remembered_devices(principal.user_id, page)
            .await
        {
            Ok(devices) => ListMyDevicesResponse::Devices(Json(devices.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Forget a remembered device
    ///
    /// Its token stops skipping the second factor at once. A device that is not one of mine
    /// is 404, whether or not it exists.
    #[oai(
        path = "/me/devices/:id",
        method = "delete",
        operation_id = "forget_my_device"
    )]
    async fn forget_my_device(
        &self,
        BearerAuth(principal): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// The device's `id` from the list.
        id: Path<String>,
    ) -> ForgetMyDeviceResponse {
        match services
            .devices
            .forget_device(principal.user_id, &id.0)
            .await
        {
            Ok(()) => ForgetMyDeviceResponse::Forgotten,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum ListMyDevicesResponse {
    /// One page of devices.
    #[oai(status = 200)]
    Devices(Json<DevicePage>),
    /// The bearer token is missing, invalid, expired or of an ended session
    /// (`unauthenticated`).
    #[oai(
        status = 401,
        header(
            name = "WWW-Authenticate",
            ty = "String",
            description = "`Bearer`: the authentication scheme to use."
        )
    )]
    Unauthenticated(ApiError),
    /// `limit` or `cursor` is invalid (`validation_failed`).
    #[oai(status = 422)]
    Invalid(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(ListMyDevicesResponse {
    401 => Unauthenticated,
    422 => Invalid,
});

#[derive(ApiResponse)]
#[oai(bad_request_handler = "rejected_request")]
pub enum ForgetMyDeviceResponse {
    /// The device is forgotten.
    #[oai(status = 204)]
    Forgotten,
    /// The bearer token is missing, invalid, expired or of an ended session
    /// (`unauthenticated`).
    #[oai(
        status = 401,
        header(
            name = "WWW-Authenticate",
            ty = "String",
            description = "`Bearer`: the authentication scheme to use."
        )
    )]
    Unauthenticated(ApiError),
    /// No such device among mine (`not_found`).
    #[oai(status = 404)]
    NotFound(ApiError),
    /// A fault on our side (`internal_error`); quote the `X-Request-Id` to support.
    #[oai(status = 500)]
    InternalError(ApiError),
}
problem_variants!(ForgetMyDeviceResponse {
    401 => Unauthenticated,
    404 => NotFound,
});
