//! The OpenAPI 3.1 document, generated from the handlers' annotations and the wire
//! types, so it cannot drift from the code.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Response, ResponseBuilder, content::ContentBuilder};
use utoipa::{Modify, OpenApi, PartialSchema};

use cxkpi_app::wire;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cxkpi",
        description = "Customer KPIs as a service: every KPI with one declared definition, by period and segment, with intervals and significance; durable survey intake.",
    ),
    paths(
        super::routes::healthz,
        super::routes::openapi,
        super::routes::metrics,
        super::routes::catalogue,
        super::routes::kpi,
        super::routes::report,
        super::routes::health,
        super::routes::survival,
        super::routes::drivers,
        super::routes::themes,
        super::routes::cohorts,
        super::routes::mrr_movements,
        super::routes::customers,
        super::routes::customer,
        super::routes::responses,
        super::routes::import,
        super::routes::list_tokens,
        super::routes::create_token,
        super::routes::revoke_token,
    ),
    components(schemas(wire::ErrorBody, wire::ErrorDetail, crate::params::doc::Band, crate::params::doc::Unit)),
    modifiers(&Security, &Errors),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Adds the error answers every operation can give (each as an `ErrorBody`).
struct Errors;

fn error(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

impl Modify for Errors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let _ = wire::ErrorBody::schema();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let open = path == "/api/v1/healthz";
            for (method, operation) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                let Some(operation) = operation else { continue };
                let responses = &mut operation.responses.responses;
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description));
                };
                if !open {
                    add(
                        "400",
                        "The request is malformed (an unknown parameter, KPI id form, period or dimension)",
                    );
                    add("401", "No token, or one that is unknown or revoked");
                    add(
                        "403",
                        "The token's scope does not allow this, or not from this origin",
                    );
                    add("429", "The token's rate limit is passed; see Retry-After");
                    add("404", "Not found");
                }
                if method == "post" {
                    add("413", "The body is larger than server.body_limit_mib");
                    add(
                        "415",
                        "The body's Content-Type is not one this endpoint takes",
                    );
                    add(
                        "422",
                        "The body breaks a rule (too many answers, a refused file)",
                    );
                }
                if method != "get" || !open {
                    add(
                        "409",
                        "The workspace's state stands in the way (a damaged store, a held lock)",
                    );
                }
                add("500", "Internal error (the server's log has the details)");
                add("503", "The server is shutting down");
            }
        }
    }
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the document serialises")
}
