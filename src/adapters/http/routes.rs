//! Adapters layer (HTTP): the route templates the service answers, read from the API
//! definitions, so that metrics and logs are labelled by template (`/api/v1/orders/{id}`),
//! never by raw path, and a 405 can list the allowed methods.

use std::collections::HashMap;

use poem::http::Method;
use poem_openapi::registry::MetaApi;

/// Label of requests that matched no route; one label for all keeps metric cardinality bounded.
pub const UNMATCHED_ROUTE: &str = "unmatched";

struct RouteEntry {
    template: String,
    methods: Vec<Method>,
}

/// Route templates by the pattern poem's router reports for them (`PathPattern`).
pub struct RouteTable {
    by_pattern: HashMap<String, RouteEntry>,
}

impl RouteTable {
    /// The operations of `apis`, plus `plain_routes`: routes outside the OpenAPI document
    /// (the docs, the spec itself, the account pages), each with its methods.
    pub fn new(apis: Vec<MetaApi>, plain_routes: &[(&str, &[Method])]) -> Self {
        let mut by_pattern: HashMap<String, RouteEntry> = HashMap::new();
        let operations = apis.into_iter().flat_map(|api| api.paths).flat_map(|path| {
            let template = path.path;
            path.operations
                .into_iter()
                .map(move |operation| (template.clone(), operation.method))
        });
        let plain = plain_routes.iter().flat_map(|(path, methods)| {
            methods
                .iter()
                .map(move |method| ((*path).to_owned(), method.clone()))
        });
        for (template, method) in operations.chain(plain) {
            by_pattern
                .entry(router_pattern(&template))
                .or_insert_with(|| RouteEntry {
                    template,
                    methods: Vec::new(),
                })
                .methods
                .push(method);
        }
        RouteTable { by_pattern }
    }

    /// The template of the route poem matched, if it is one of ours.
    pub fn template(&self, pattern: &str) -> Option<&str> {
        self.by_pattern
            .get(pattern)
            .map(|entry| entry.template.as_str())
    }

    /// The `Allow` header value of a route: its methods, and HEAD wherever GET is (poem
    /// answers HEAD with the GET handler).
    pub fn allow(&self, pattern: &str) -> Option<String> {
        let entry = self.by_pattern.get(pattern)?;
        let mut methods: Vec<&str> = entry.methods.iter().map(Method::as_str).collect();
        if entry.methods.contains(&Method::GET) && !entry.methods.contains(&Method::HEAD) {
            methods.push(Method::HEAD.as_str());
        }
        Some(methods.join(", "))
    }
}

/// The pattern poem-openapi registers for an OpenAPI path: `{name}` segments become
/// `:param0`, `:param1`… in order.
fn router_pattern(template: &str) -> String {
    let mut params = 0;
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                let param = format!(":param{params}");
                params += 1;
                param
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use poem_openapi::registry::{MetaOperation, MetaPath, MetaResponses};

    use super::*;

    fn operation(method: Method) -> MetaOperation {
        MetaOperation {
            method,
            tags: vec![],
            summary: None,
            description: None,
            external_docs: None,
            params: vec![],
            request: None,
            responses: MetaResponses { responses: vec![] },
            deprecated: false,
            security: vec![],
            operation_id: None,
            code_samples: vec![],
        }
    }

    fn table() -> RouteTable {
        let api = MetaApi {
            paths: vec![MetaPath {
                path: "/api/v1/orders/{id}/status".into(),
                operations: vec![operation(Method::GET), operation(Method::POST)],
            }],
        };
        RouteTable::new(vec![api], &[("/openapi.json", &[Method::GET])])
    }

    #[test]
    fn routes_are_labelled_by_template_not_by_router_pattern() {
        assert_eq!(
            table().template("/api/v1/orders/:param0/status"),
            Some("/api/v1/orders/{id}/status")
        );
        assert_eq!(table().template("/openapi.json"), Some("/openapi.json"));
        assert_eq!(table().template("/nowhere"), None);
    }

    #[test]
    fn allow_lists_every_method_of_a_route_and_head_with_get() {
        assert_eq!(
            table().allow("/api/v1/orders/:param0/status").as_deref(),
            Some("GET, POST, HEAD")
        );
    }
}
