//! Adapters layer (HTTP): the signed-in user's remembered devices — listing and forgetting
//! them — through `RememberedDevices`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;

use super::devices_dto::DevicePage;
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
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
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// Items per page, 1 to 100 (default 20).
        limit: Query<Option<String>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListMyDevicesResponse {
        let principal = caller.principal;
        // A limit that is not a number is refused like one out of range: 422, not 400.
        let limit = limit.0.map(|raw| raw.trim().parse::<i64>().unwrap_or(0));
        let page = match PageRequest::parse(limit, cursor.0.as_deref()) {
            Ok(page) => page,
            Err(errors) => return ApiError::ValidationFailed(errors).into(),
        };
        match services
            .core
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
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// The device's `id` from the list.
        id: Path<String>,
    ) -> ForgetMyDeviceResponse {
        let principal = caller.principal;
        match services
            .core
            .devices
            .forget_device(principal.user_id, &id.0)
            .await
        {
            Ok(()) => ForgetMyDeviceResponse::Forgotten,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum ListMyDevicesResponse {
        /// One page of devices.
        200 Devices(Json<DevicePage>),
        401 unauthenticated,
        /// `limit` or `cursor` is invalid (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ForgetMyDeviceResponse {
        /// The device is forgotten.
        204 Forgotten,
        401 unauthenticated,
        /// No such device among mine (`not_found`).
        404 NotFound(problem),
        500 internal_error,
        503 store_timeout,
    }
}
