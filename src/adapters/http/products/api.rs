//! Adapters layer (HTTP): the `Products` operations — anyone browses the catalogue through
//! `CatalogueService`; managers create, edit and delete products.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::dto::{CreateProductBody, ProductPageView, ProductView, UpdateProductBody};
use crate::adapters::http::HttpServices;
use crate::adapters::http::extractors::BearerAuth;
use crate::adapters::http::problems::ApiError;
use crate::adapters::http::problems::responses;
use crate::adapters::http::tags::ApiTags;
use crate::core::catalogue::ListProductsRequest;
use crate::core::model::ProductId;

pub struct ProductsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl ProductsApi {
    /// List products
    ///
    /// The catalogue, newest first. Public. `q` finds products whose name contains it,
    /// ignoring case; `available` keeps only products that can (or cannot) be ordered now.
    #[oai(path = "/products", method = "get", operation_id = "list_products")]
    async fn list_products(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        /// `true`: only products that can be ordered now; `false`: only the others.
        available: Query<Option<bool>>,
        /// Text the name must contain (1 to 100 characters, case-insensitive).
        q: Query<Option<String>>,
        /// Items per page, 1 to 100 (default 20).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListProductsResponse {
        let request = ListProductsRequest {
            available: available.0,
            q: q.0,
            limit: limit.0,
            cursor: cursor.0,
        };
        let catalogue = &services.core.catalogue;
        match catalogue.list(request).await {
            Ok(page) => {
                ListProductsResponse::Page(Json(ProductPageView::new(page, catalogue.currency())))
            }
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Read a product
    ///
    /// One product of the catalogue. Public.
    #[oai(path = "/products/:id", method = "get", operation_id = "get_product")]
    async fn get_product(
        &self,
        Data(services): Data<&Arc<HttpServices>>,
        id: Path<Uuid>,
    ) -> GetProductResponse {
        let catalogue = &services.core.catalogue;
        match catalogue.get(ProductId::from_uuid(id.0)).await {
            Ok(product) => {
                GetProductResponse::Product(Json(ProductView::new(product, catalogue.currency())))
            }
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Create a product
    ///
    /// Managers only. The price is in minor units of the deployment's currency.
    #[oai(path = "/products", method = "post", operation_id = "create_product")]
    async fn create_product(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        body: Json<CreateProductBody>,
    ) -> CreateProductResponse {
        let principal = caller.principal;
        let catalogue = &services.core.catalogue;
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match catalogue.create(manager, body.0.into()).await {
            Ok(product) => CreateProductResponse::Created(Json(ProductView::new(
                product,
                catalogue.currency(),
            ))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Edit a product
    ///
    /// Managers only. Absent fields are left as they are; `description: null` removes the
    /// description. Orders already placed keep the name and price they were placed with.
    #[oai(
        path = "/products/:id",
        method = "patch",
        operation_id = "update_product"
    )]
    async fn update_product(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        id: Path<Uuid>,
        body: Json<UpdateProductBody>,
    ) -> UpdateProductResponse {
        let principal = caller.principal;
        let catalogue = &services.core.catalogue;
        let id = ProductId::from_uuid(id.0);
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match catalogue.update(manager, id, body.0.into()).await {
            Ok(product) => UpdateProductResponse::Updated(Json(ProductView::new(
                product,
                catalogue.currency(),
            ))),
            Err(error) => ApiError::from(error).into(),
        }
    }

    /// Delete a product
    ///
    /// Managers only. Orders already placed keep the name and price they were placed with.
    #[oai(
        path = "/products/:id",
        method = "delete",
        operation_id = "delete_product"
    )]
    async fn delete_product(
        &self,
        BearerAuth(caller): BearerAuth,
        Data(services): Data<&Arc<HttpServices>>,
        id: Path<Uuid>,
    ) -> DeleteProductResponse {
        let principal = caller.principal;
        let id = ProductId::from_uuid(id.0);
        let manager = match principal.as_manager() {
            Ok(manager) => manager,
            Err(not_a_manager) => return ApiError::from(not_a_manager).into(),
        };
        match services.core.catalogue.delete(manager, id).await {
            Ok(()) => DeleteProductResponse::Deleted,
            Err(error) => ApiError::from(error).into(),
        }
    }
}

responses! {
    pub enum ListProductsResponse {
        /// One page of products.
        200 Page(Json<ProductPageView>),
        /// A parameter has the wrong type, such as `available=maybe` (`malformed_request`).
        400 BadRequest(problem),
        /// `q`, `limit` or `cursor` is invalid (`validation_failed`); `errors` names them.
        422 Invalid(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum GetProductResponse {
        /// The product.
        200 Product(Json<ProductView>),
        400 malformed_id,
        /// No such product (`not_found`).
        404 NotFound(problem),
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum CreateProductResponse {
        /// The product as created.
        201 Created(Json<ProductView>),
        400 malformed_json,
        401 unauthenticated,
        /// Only managers edit the catalogue (`forbidden`).
        403 Forbidden(problem),
        413 payload_too_large,
        422 invalid_fields,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum UpdateProductResponse {
        /// The product as it is now.
        200 Updated(Json<ProductView>),
        400 malformed_id_or_json,
        401 unauthenticated,
        /// Only managers edit the catalogue (`forbidden`).
        403 Forbidden(problem),
        /// No such product (`not_found`).
        404 NotFound(problem),
        413 payload_too_large,
        422 invalid_fields,
        500 internal_error,
        503 store_timeout,
    }
}

responses! {
    pub enum DeleteProductResponse {
        /// The product is gone.
        204 Deleted,
        400 malformed_id,
        401 unauthenticated,
        /// Only managers edit the catalogue (`forbidden`).
        403 Forbidden(problem),
        /// No such product (`not_found`).
        404 NotFound(problem),
        500 internal_error,
        503 store_timeout,
    }
}
