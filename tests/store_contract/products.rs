//! Tests: the store contract of `ProductStore`, run against every store adapter.

use crate::builders::*;

store_contract! {
    pub async fn an_inserted_product_reads_back_with_every_field<S: Store>(store: Arc<S>) {
        let product = product_named("Tajine aux olives");

        store.insert_product(&product).await.unwrap();

        assert_eq!(store.product(product.id).await.unwrap(), Some(product));
    }

    pub async fn a_product_without_a_description_reads_back_without_it<S: Store>(store: Arc<S>) {
        let product = Product {
            description: None,
            available: false,
            ..product_named("Harira")
        };

        store.insert_product(&product).await.unwrap();

        assert_eq!(store.product(product.id).await.unwrap(), Some(product));
    }

    pub async fn unknown_products_are_absent<S: Store>(store: Arc<S>) {
        assert_eq!(store.product(ProductId::new()).await.unwrap(), None);
    }

    pub async fn products_are_listed_newest_first_a_page_at_a_time<S: Store>(store: Arc<S>) {
        let mut products = Vec::new();
        for name in ["Harira", "Pastilla", "Couscous"] {
            products.push(a_stored_product(&*store, name).await);
        }

        let first = store
            .list_products(&ProductFilter::default(), PageRequest::first(1))
            .await
            .unwrap();
        let rest = store
            .list_products(
                &ProductFilter::default(),
                PageRequest {
                    limit: 5,
                    before: Some(products[2].id.as_uuid()),
                },
            )
            .await
            .unwrap();

        // One more than the page, so the service knows another page follows.
        assert_eq!(names(&first), ["Couscous", "Pastilla"]);
        assert_eq!(names(&rest), ["Pastilla", "Harira"]);
    }

    pub async fn products_are_filtered_by_availability<S: Store>(store: Arc<S>) {
        a_stored_product(&*store, "Harira").await;
        let hidden = Product {
            available: false,
            ..product_named("Pastilla")
        };
        store.insert_product(&hidden).await.unwrap();
        let filter = |available| ProductFilter {
            available: Some(available),
            name_contains: None,
        };

        let available = store
            .list_products(&filter(true), PageRequest::first(10))
            .await
            .unwrap();
        let unavailable = store
            .list_products(&filter(false), PageRequest::first(10))
            .await
            .unwrap();

        assert_eq!(names(&available), ["Harira"]);
        assert_eq!(names(&unavailable), ["Pastilla"]);
    }

    pub async fn a_name_search_is_a_case_insensitive_substring<S: Store>(store: Arc<S>) {
        for name in ["Tajine poulet", "Poulet rôti", "Harira"] {
            a_stored_product(&*store, name).await;
        }

        let found = store
            .list_products(&searching("POULET"), PageRequest::first(10))
            .await
            .unwrap();

        assert_eq!(names(&found), ["Poulet rôti", "Tajine poulet"]);
    }

    pub async fn wildcards_and_regex_characters_in_a_search_match_only_themselves<S: Store>(
        store: Arc<S>,
    ) {
        for name in [
            "Jus 100% orange",
            "Jus 1000 orange",
            "Menu a_b",
            "Menu axb",
            "Thé (menthe)",
        ] {
            a_stored_product(&*store, name).await;
        }

        let percent = store
            .list_products(&searching("100%"), PageRequest::first(10))
            .await
            .unwrap();
        let underscore = store
            .list_products(&searching("a_b"), PageRequest::first(10))
            .await
            .unwrap();
        let regex = store
            .list_products(&searching(".*"), PageRequest::first(10))
            .await
            .unwrap();
        let parenthesis = store
            .list_products(&searching("(menthe"), PageRequest::first(10))
            .await
            .unwrap();

        assert_eq!(names(&percent), ["Jus 100% orange"]);
        assert_eq!(names(&underscore), ["Menu a_b"]);
        assert!(regex.is_empty(), "{:?}", names(&regex));
        assert_eq!(names(&parenthesis), ["Thé (menthe)"]);
    }

    pub async fn updating_a_product_changes_only_the_present_fields<S: Store>(store: Arc<S>) {
        let product = a_stored_product(&*store, "Harira").await;
        let changes = ProductChanges {
            price: Some(PriceCents::new(990).unwrap()),
            available: Some(false),
            ..ProductChanges::default()
        };
        let at = t0() + Duration::minutes(3);

        let updated = store
            .update_product(product.id, &changes, at)
            .await
            .unwrap();

        let expected = Product {
            price: PriceCents::new(990).unwrap(),
            available: false,
            updated_at: at,
            ..product.clone()
        };
        assert_eq!(updated, Some(expected.clone()));
        assert_eq!(store.product(product.id).await.unwrap(), Some(expected));
    }

    pub async fn updating_a_product_with_a_present_none_clears_its_description<S: Store>(
        store: Arc<S>,
    ) {
        let product = a_stored_product(&*store, "Harira").await;
        let changes = ProductChanges {
            name: Some(ProductName::parse("Harira maison").unwrap()),
            description: Some(None),
            ..ProductChanges::default()
        };

        let updated = store
            .update_product(product.id, &changes, t0())
            .await
            .unwrap()
            .unwrap();

        assert_eq!(updated.name.as_str(), "Harira maison");
        assert_eq!(updated.description, None);
    }

    pub async fn updating_an_unknown_product_returns_none<S: Store>(store: Arc<S>) {
        let changes = ProductChanges {
            available: Some(true),
            ..ProductChanges::default()
        };

        let updated = store
            .update_product(ProductId::new(), &changes, t0())
            .await
            .unwrap();

        assert_eq!(updated, None);
    }

    pub async fn deleting_a_product_succeeds_once<S: Store>(store: Arc<S>) {
        let product = a_stored_product(&*store, "Harira").await;

        let first = store.delete_product(product.id).await.unwrap();
        let second = store.delete_product(product.id).await.unwrap();

        assert!(first);
        assert!(!second);
        assert_eq!(store.product(product.id).await.unwrap(), None);
    }
}
