//! Tests: the catalogue over HTTP — public reading, manager-only writes, every problem.

use poem::http::StatusCode;
use serde_json::{Value, json};

use testkit::http::{Api, Tokens};

async fn a_product(api: &Api, manager: &Tokens, name: &str, available: bool) -> Value {
    let reply = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({"name": name, "price_cents": 4500, "available": available}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

#[tokio::test]
async fn a_manager_creates_a_product_that_anyone_then_reads_with_its_currency() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;

    let created = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({
                "name": "  Tajine aux olives ",
                "description": "Poulet, olives, citron confit",
                "price_cents": 8500,
                "available": true
            }),
        )
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let read = api.get(&format!("/api/v1/products/{id}")).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(read.status, StatusCode::OK);
    let product = read.json();
    assert_eq!(product, created.json());
    assert_eq!(product["name"], "Tajine aux olives");
    assert_eq!(product["price_cents"], 8500);
    assert_eq!(product["currency"], "MAD");
    assert_eq!(product["available"], true);
}

#[tokio::test]
async fn the_list_is_public_filtered_searched_and_paged_newest_first() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;
    a_product(&api, &manager, "Harira", true).await;
    a_product(&api, &manager, "Tajine poulet", false).await;
    a_product(&api, &manager, "Poulet rôti", true).await;

    let all = api.get("/api/v1/products?limit=2").await.json();
    let next = all["next_cursor"].as_str().unwrap().to_owned();
    let rest = api
        .get(&format!("/api/v1/products?limit=2&cursor={next}"))
        .await
        .json();
    let available_poulet = api
        .get("/api/v1/products?available=true&q=POULET")
        .await
        .json();

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&all), ["Poulet rôti", "Tajine poulet"]);
    assert_eq!(names(&rest), ["Harira"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(names(&available_poulet), ["Poulet rôti"]);
}

#[tokio::test]
async fn a_manager_edits_and_deletes_a_product() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;
    let product = a_product(&api, &manager, "Harira", true).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().unwrap());

    let edited = api
        .patch_as(
            &path,
            &manager.access,
            json!({"price_cents": 990, "available": false}),
        )
        .await;
    let deleted = api.delete_as(&path, &manager.access).await;
    let after = api.get(&path).await;

    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.json()["price_cents"], 990);
    assert_eq!(edited.json()["available"], false);
    assert_eq!(edited.json()["name"], "Harira");
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    after.assert_problem(404, "not_found");
}

#[tokio::test]
async fn writes_need_a_bearer_token_and_the_manager_role() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;
    let client = api.signed_in_client("amina@example.com").await;
    let product = a_product(&api, &manager, "Harira", true).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().unwrap());
    let body = json!({"name": "Pastilla", "price_cents": 100, "available": true});

    api.post("/api/v1/products", body.clone())
        .await
        .assert_problem(401, "unauthenticated");
    api.post_json_as("/api/v1/products", &client.access, body)
        .await
        .assert_problem(403, "forbidden");
    api.patch_as(&path, &client.access, json!({"available": false}))
        .await
        .assert_problem(403, "forbidden");
    api.delete_as(&path, &client.access)
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(api.get(&path).await.json()["available"], true);
}

#[tokio::test]
async fn invalid_fields_are_all_named() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;

    let reply = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({"name": " ", "description": "x".repeat(2001), "price_cents": 0, "available": true}),
        )
        .await;

    let problem = reply.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "description", "price_cents"]);
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_malformed() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;

    let unknown = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({"name": "Harira", "price_cents": 100, "available": true, "stock": 3}),
        )
        .await;
    let wrong_type = api
        .post_json_as(
            "/api/v1/products",
            &manager.access,
            json!({"name": "Harira", "price_cents": "100", "available": true}),
        )
        .await;
    let bad_filter = api.get("/api/v1/products?available=maybe").await;
    let bad_id = api.get("/api/v1/products/not-a-uuid").await;

    unknown.assert_problem(400, "malformed_request");
    wrong_type.assert_problem(400, "malformed_request");
    bad_filter.assert_problem(400, "malformed_request");
    bad_id.assert_problem(400, "malformed_request");
}

#[tokio::test]
async fn bad_list_parameters_are_validation_failures() {
    let api = Api::new();

    let limit = api.get("/api/v1/products?limit=0").await;
    let cursor = api.get("/api/v1/products?cursor=garbage").await;
    let search = api
        .get(&format!("/api/v1/products?q={}", "x".repeat(101)))
        .await;

    assert_eq!(
        limit.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "limit"
    );
    assert_eq!(
        cursor.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "cursor"
    );
    assert_eq!(
        search.assert_problem(422, "validation_failed")["errors"][0]["field"],
        "q"
    );
}

#[tokio::test]
async fn unknown_products_are_not_found_for_every_operation() {
    let api = Api::new();
    let manager = api.signed_in_manager("salma@example.com").await;
    let path = format!("/api/v1/products/{}", uuid::Uuid::now_v7());

    api.get(&path).await.assert_problem(404, "not_found");
    api.patch_as(&path, &manager.access, json!({"available": true}))
        .await
        .assert_problem(404, "not_found");
    api.delete_as(&path, &manager.access)
        .await
        .assert_problem(404, "not_found");
}
