//! Tests: problem documents speak the reader's language (`Accept-Language`, English when the
//! service speaks none of those asked for), say so in `Content-Language`, and never change
//! their `code` or status.

use testkit::http::{Api, Reply, send};

async fn me_reading(api: &Api, accept_language: Option<&str>) -> Reply {
    let request = api.client.get("/api/v1/me");
    let request = match accept_language {
        Some(value) => request.header("accept-language", value),
        None => request,
    };
    send(request).await
}

#[tokio::test]
async fn a_problem_is_in_the_readers_language_and_its_code_stays() {
    let api = Api::new();

    for (asked, title, language) in [
        (Some("fr"), "Non authentifié", "fr"),
        (Some("fr-MA,fr;q=0.9,en;q=0.5"), "Non authentifié", "fr"),
        (Some("en-GB"), "Not authenticated", "en"),
        (Some("de, ja"), "Not authenticated", "en"),
        (None, "Not authenticated", "en"),
    ] {
        let reply = me_reading(&api, asked).await;
        let problem = reply.assert_problem(401, "unauthenticated");
        assert_eq!(problem["title"], title, "{asked:?}");
        assert_eq!(
            reply.header("content-language"),
            Some(language),
            "{asked:?}"
        );
    }
}

#[tokio::test]
async fn problems_made_outside_the_operations_are_translated_too() {
    let api = Api::new();

    let missing = send(
        api.client
            .get("/api/v1/nowhere")
            .header("accept-language", "fr"),
    )
    .await;

    let problem = missing.assert_problem(404, "not_found");
    assert_eq!(problem["title"], "Introuvable");
    assert_eq!(problem["detail"], "Il n’y a rien ici.");
}

#[tokio::test]
async fn an_echoed_reason_follows_the_translated_detail() {
    let api = Api::new();

    let malformed = send(
        api.client
            .post("/api/v1/auth/login")
            .header("accept-language", "fr")
            .content_type("application/json")
            .body("{not json"),
    )
    .await;

    let problem = malformed.assert_problem(400, "malformed_request");
    assert_eq!(problem["title"], "Requête illisible");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("La requête n’a pas pu être lue: "),
        "{detail}"
    );
}
