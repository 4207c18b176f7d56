//! Adapters layer (HTTP): the `Orders` operations — clients order, managers run the kitchen
//! and assign couriers, couriers deliver — through `OrderService`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::dto::{AssignOrderBody, MoveOrderBody, OrderBody, OrderPageBody, PlaceOrderBody};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
use crate::core::model::{OrderId, UserId};
use crate::core::orders::ListOrdersRequest;

pub struct OrdersApi;

// Orders travel boxed: an order is far larger than a problem, and every response enum would
// otherwise be as large as its biggest variant.

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Orders")]
impl OrdersApi {
    /// Place an order
    ///
    /// Clients only. Prices and the total are taken from the catalogue at this moment; every
    /// product must exist and be available. The order starts `pending`.
    #[oai(path = "/orders", method = "post", operation_id = "place_order")]
    async fn place_order(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<PlaceOrderBody>,
    ) -> PlaceOrderResponse {
        let principal = caller.principal;
        match services.core.orders.place(principal, body.0.into()).await {
            Ok(order) => PlaceOrderResponse::Created(Json(Box::new(order.into()))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// List orders
    ///
    /// Newest first. A client sees the orders they placed, a courier those assigned to them,
    /// a manager all of them.
    #[oai(path = "/orders", method = "get", operation_id = "list_orders")]
    async fn list_orders(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        /// Only orders in this status.
        status: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListOrdersResponse {
        let principal = caller.principal;
        let request = ListOrdersRequest {
            status: status.0,
            limit: limit.0,
            cursor: cursor.0,
        };
        match services.core.orders.list(principal, request).await {
            Ok(page) => ListOrdersResponse::Page(Json(page.into())),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Read an order
    ///
    /// 404 for an order the caller may not see.
    #[oai(path = "/orders/:id", method = "get", operation_id = "get_order")]
    async fn get_order(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        id: Path<Uuid>,
    ) -> GetOrderResponse {
        let principal = caller.principal;
        match services
            .core
            .orders
            .get(principal, OrderId::from_uuid(id.0))
            .await
        {
            Ok(order) => GetOrderResponse::Order(Json(Box::new(order.into()))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Change an order's status
    ///
    /// As the delivery workflow allows: managers confirm, prepare, make ready and cancel
    /// (`reason` required once confirmed); the placing client may cancel a pending order;
    /// the assigned courier picks up, delivers (with the client's `delivery_code`) or
    /// reports a failure (`reason` required).
    #[oai(
        path = "/orders/:id/status",
        method = "post",
        operation_id = "change_order_status"
    )]
    async fn change_order_status(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        id: Path<Uuid>,
        body: Json<MoveOrderBody>,
    ) -> ChangeOrderStatusResponse {
        let principal = caller.principal;
        let id = OrderId::from_uuid(id.0);
        match services
            .core
            .orders
            .change_status(principal, id, body.0.into())
            .await
        {
            Ok(order) => ChangeOrderStatusResponse::Order(Json(Box::new(order.into()))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Assign a courier
    ///
    /// Managers only, between confirmation and pick-up; the courier must be active.
    /// Assigning again gives the order to another courier.
    #[oai(
        path = "/orders/:id/assign",
        method = "post",
        operation_id = "assign_order"
    )]
    async fn assign_order(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        id: Path<Uuid>,
        body: Json<AssignOrderBody>,
    ) -> AssignOrderResponse {
        let principal = caller.principal;
        let id = OrderId::from_uuid(id.0);
        let courier = UserId::from_uuid(body.0.courier_id);
        match services.core.orders.assign(principal, id, courier).await {
            Ok(order) => AssignOrderResponse::Order(Json(Box::new(order.into()))),
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum PlaceOrderResponse {
        /// The order as placed.
        201 Created(Json<Box<OrderBody>>),
        /// The body is not valid JSON, has a field of the wrong type or an unknown one, such as
        /// a price or a total (`malformed_request`).
        400 BadRequest(problem),
        401 unauthenticated,
        /// Only clients place orders (`forbidden`).
        403 Forbidden(problem),
        413 payload_too_large,
        /// Some fields are invalid (`validation_failed`): `errors` names each one, such as
        /// `items[2].product_id` for an unknown or unavailable product.
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ListOrdersResponse {
        /// One page of orders.
        200 Page(Json<OrderPageBody>),
        /// A parameter has the wrong type (`malformed_request`).
        400 BadRequest(problem),
        401 unauthenticated,
        /// `status`, `limit` or `cursor` is invalid (`validation_failed`); `errors` names them.
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum GetOrderResponse {
        /// The order.
        200 Order(Json<Box<OrderBody>>),
        400 malformed_id,
        401 unauthenticated,
        /// No such order, or not one the caller may see (`not_found`).
        404 NotFound(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum ChangeOrderStatusResponse {
        /// The order as it is now.
        200 Order(Json<Box<OrderBody>>),
        400 malformed_id_or_json,
        401 unauthenticated,
        /// The caller's role may never make this move (`forbidden`).
        403 Forbidden(problem),
        /// No such order, or not one the caller may see (`not_found`).
        404 NotFound(problem),
        /// The workflow has no such move from the current status (`invalid_transition`), the
        /// order has used all its delivery-code attempts (`delivery_code_locked`), or it changed
        /// meanwhile (`conflict`: read it again).
        409 Conflict(problem),
        413 payload_too_large,
        /// An unknown status or a missing `reason` or `delivery_code` (`validation_failed`), or
        /// a delivery code that is not the order's (`invalid_delivery_code`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum AssignOrderResponse {
        /// The order as it is now.
        200 Order(Json<Box<OrderBody>>),
        400 malformed_id_or_json,
        401 unauthenticated,
        /// Only managers assign couriers (`forbidden`).
        403 Forbidden(problem),
        /// No such order, or not one the caller may see (`not_found`).
        404 NotFound(problem),
        /// The order is not between confirmation and pick-up (`order_not_assignable`), or it
        /// changed meanwhile (`conflict`: read it again).
        409 Conflict(problem),
        413 payload_too_large,
        /// `courier_id` is not an active courier (`validation_failed`).
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}
