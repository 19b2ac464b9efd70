//! The API driven through `app(state)` with `oneshot` requests: every endpoint, every
//! error status the server can be made to give, scopes, tokens and the intake. The
//! KPI values are computed by hand from the rows written here.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cxkpi_app::tokens::{self, NewToken, Scope};
use cxkpi_core::entity::Entity;
use cxkpi_server::{AppState, Options, app};
use cxkpi_store::{ImportOptions, Input, NoProgress, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

const CUSTOMERS: &str = "customer_id,acquired_at,region
c1,2026-01-05,eu
c2,2026-02-01,eu
c3,2026-03-01,us
c4,2026-03-01,us
";

// October 2026: promoters r1 r2, passive r3, detractors r4 r5: NPS (2 - 2) / 5 = 0.
// By region: eu (10, 9, 6) = (2 - 1) / 3 = 33.33; us (7, 3) = (0 - 1) / 2 = -50.
// The last answer is on 31 October, so October is the data's last complete month.
const RESPONSES: &str = "response_id,customer_id,survey,score,responded_at
r1,c1,nps,10,2026-10-03T10:00:00Z
r2,c2,nps,9,2026-10-04T10:00:00Z
r3,c3,nps,7,2026-10-05T10:00:00Z
r4,c4,nps,3,2026-10-06T10:00:00Z
r5,c1,nps,6,2026-10-31T10:00:00Z
";

struct Server {
    _dir: tempfile::TempDir,
    store: Store,
    state: AppState,
}

impl Server {
    /// A workspace with the rows above and `[server]` settings `server_toml`.
    fn new(server_toml: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Store::init(dir.path()).unwrap();
        if !server_toml.is_empty() {
            let config = dir.path().join("cxkpi.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            let (before, _) = text.split_once("[server]").unwrap();
            std::fs::write(&config, format!("{before}[server]\n{server_toml}")).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        for (entity, rows) in [
            (Entity::Customers, CUSTOMERS),
            (Entity::Responses, RESPONSES),
        ] {
            let path = dir.path().join(format!("{}.csv", entity.name()));
            std::fs::write(&path, rows).unwrap();
            let summary = store
                .import(
                    entity,
                    &[Input::from_arg(path.to_str().unwrap(), None)],
                    &ImportOptions::default(),
                    &NoProgress,
                )
                .unwrap();
            assert_eq!(summary.rejected, 0);
        }
        let state = AppState::open(
            store.clone(),
            Options {
                fold_every: Duration::from_millis(100),
                ..Options::default()
            },
        )
        .unwrap();
        Server {
            _dir: dir,
            store,
            state,
        }
    }

    fn token(&self, scope: Scope, origins: &[&str]) -> String {
        tokens::create(
            &self.store,
            &NewToken {
                scope,
                name: None,
                origins: origins.iter().map(|o| o.to_string()).collect(),
            },
        )
        .unwrap()
        .1
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, bytes.to_vec())
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::get(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let (status, _, body) = self.send(request.body(Body::empty()).unwrap()).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn post(
        &self,
        uri: &str,
        token: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, Value) {
        let request = Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap();
        let (status, _, body) = self.send(request).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.state.close();
    }
}

fn nps_of(rows: &Value, segment: Option<&str>) -> (f64, u64) {
    let row = rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["segment"].as_str() == segment)
        .unwrap_or_else(|| panic!("no row for {segment:?} in {rows}"));
    (row["value"].as_f64().unwrap(), row["n"].as_u64().unwrap())
}

fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

/// The error body's code, checking its shape on the way.
fn code(body: &Value) -> &str {
    let error = &body["error"];
    assert!(error["message"].is_string(), "{body}");
    assert!(error.get("details").is_some(), "{body}");
    error["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpi_rows_and_acknowledged_answers_by_hand() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    let write = server.token(Scope::Write, &[]);

    let (status, body) = server
        .get("/api/v1/kpis/nps?period=2026-10", Some(&read))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (value, n) = nps_of(&body, None);
    assert_close(value, 0.0);
    assert_eq!(n, 5);
    let (_, body) = server
        .get("/api/v1/kpis/NPS?period=2026-10&by=region", Some(&read))
        .await;
    assert_close(nps_of(&body, Some("eu")).0, 100.0 / 3.0);
    assert_close(nps_of(&body, Some("us")).0, -50.0);
    let (_, filtered) = server
        .get(
            "/api/v1/kpis/nps?period=2026-10&where=region%3Dus",
            Some(&read),
        )
        .await;
    assert_close(nps_of(&filtered, None).0, -50.0);

    // Two promoters more and one answer off the scale.
    let answers = json!([
        {"response_id": "r6", "customer_id": "c3", "survey": "nps", "score": 10, "responded_at": "2026-10-20T09:00:00Z"},
        {"response_id": "r7", "customer_id": "c4", "survey": "nps", "score": 9, "responded_at": "2026-10-21T09:00:00Z", "channel": "widget"},
        {"response_id": "r8", "customer_id": "c4", "survey": "nps", "score": 11, "responded_at": "2026-10-21T09:00:00Z"}
    ]);
    let (status, receipt) = server
        .post(
            "/api/v1/responses",
            &write,
            "application/json",
            answers.to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["accepted"], 2);
    assert_eq!(receipt["rejected"], 1);
    assert_eq!(receipt["rows"][2]["id"], "r8");
    assert_eq!(receipt["rows"][2]["code"], "out_of_range");
    assert_eq!(receipt["rows"][2]["column"], "score");

    // Visible to queries within 5 seconds: promoters 4, passive 1, detractors 2 of 7.
    let started = Instant::now();
    let (value, n) = loop {
        let (_, body) = server
            .get("/api/v1/kpis/nps?period=2026-10", Some(&read))
            .await;
        let (value, n) = nps_of(&body, None);
        if n == 7 || started.elapsed() > Duration::from_secs(5) {
            break (value, n);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(n, 7, "the answers were not visible within 5 s");
    assert_close(value, 200.0 / 7.0);

    // Sent again (a client retrying after a lost answer): stored once.
    let (status, _) = server
        .post(
            "/api/v1/responses",
            &write,
            "application/json",
            answers[0].to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.state.close();
    let rows = server
        .store
        .snapshot()
        .unwrap()
        .table(Entity::Responses)
        .rows;
    assert_eq!(rows, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_origins_and_revocation() {
    let server = Server::new("cors_origins = [\"https://app.example.com\"]\n");
    let read = server.token(Scope::Read, &[]);
    let survey = server.token(Scope::Survey, &["https://shop.example.com"]);
    let admin = server.token(Scope::Admin, &[]);
    let answer = json!({"response_id": "w1", "survey": "csat", "score": 5, "responded_at": "2026-10-10T10:00:00Z"}).to_string();

    // No token, a malformed header, an unknown token.
    let (status, body) = server.get("/api/v1/kpis", None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let request = Request::get("/api/v1/kpis")
        .header(header::AUTHORIZATION, "Basic abc")
        .body(Body::empty())
        .unwrap();
    assert_eq!(server.send(request).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = server.get("/api/v1/kpis", Some("cxk_0123")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Health answers without one.
    let (status, body) = server.get("/api/v1/healthz", None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );

    // A read token reads and cannot write.
    let (status, body) = server.get("/api/v1/kpis", Some(&read)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["rows"].as_array().unwrap().len(),
        cxkpi_core::kpi::CATALOGUE.len()
    );
    let (status, body) = server
        .post(
            "/api/v1/responses",
            &read,
            "application/json",
            answer.clone(),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, _) = server
        .post("/api/v1/import/orders", &read, "text/csv", "order_id\n")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.get("/api/v1/tokens", Some(&read)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A survey key posts answers, from its origin or a server, and reads nothing.
    let (status, body) = server
        .post(
            "/api/v1/responses",
            &survey,
            "application/json",
            answer.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = server.get("/api/v1/kpis", Some(&survey)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let from = |origin: &str, token: &str| {
        Request::post("/api/v1/responses")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, origin)
            .body(Body::from(answer.clone()))
            .unwrap()
    };
    let (status, headers, _) = server.send(from("https://shop.example.com", &survey)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://shop.example.com"
    );
    let (status, headers, _) = server.send(from("https://evil.example.net", &survey)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // The configured origin is for the other scopes, not for the survey key.
    let (status, _, _) = server.send(from("https://app.example.com", &survey)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let preflight = Request::options("/api/v1/responses")
        .header(header::ORIGIN, "https://shop.example.com")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = server.send(preflight).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("authorization")
    );

    // Admin manages tokens over the API; a created token works at once, a revoked one
    // (through the API or the CLI's use case) stops at once.
    let request = |method: &str, uri: &str, body: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (status, _, body) = server
        .send(request(
            "POST",
            "/api/v1/tokens",
            r#"{"scope":"read","name":"dash"}"#,
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let created: Value = serde_json::from_slice(&body).unwrap();
    let dash = created["token"].as_str().unwrap().to_string();
    assert_eq!(created["name"], "dash");
    assert_eq!(
        server.get("/api/v1/kpis", Some(&dash)).await.0,
        StatusCode::OK
    );
    let (status, _, body) = server
        .send(request(
            "POST",
            "/api/v1/tokens",
            r#"{"scope":"read","name":"dash"}"#,
        ))
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "conflict"));
    let (status, _, body) = server
        .send(request("POST", "/api/v1/tokens", r#"{"scope":"root"}"#))
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let (status, body) = server.get("/api/v1/tokens", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["read-1", "survey-1", "admin-1", "dash"]);
    assert!(
        !body.to_string().contains(&dash[4..]),
        "a secret was listed"
    );
    let (status, _, _) = server
        .send(request("DELETE", "/api/v1/tokens/dash", ""))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server.get("/api/v1/kpis", Some(&dash)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = server
        .send(request("DELETE", "/api/v1/tokens/dash", ""))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    tokens::revoke(&server.store, "read-1").unwrap();
    let (status, body) = server.get("/api/v1/kpis", Some(&read)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_status_is_json_with_a_code() {
    let server = Server::new("body_limit_mib = 1\n");
    let read = server.token(Scope::Read, &[]);
    let write = server.token(Scope::Write, &[]);

    // 400: an unknown parameter, a malformed period, a dimension no row has.
    for uri in [
        "/api/v1/kpis/nps?grian=week",
        "/api/v1/kpis/nps?period=2026-13",
        "/api/v1/kpis/nps?from=2026-01-01",
        "/api/v1/kpis/nps?by=planet",
        "/api/v1/report?period=2026-10&period=2026-09",
        "/api/v1/health?band=purple",
        "/api/v1/themes?top=0",
    ] {
        let (status, body) = server.get(uri, Some(&read)).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{uri}: {body}"
        );
    }
    // 404: an unknown KPI (with the closest id), endpoint, entity.
    let (status, body) = server.get("/api/v1/kpis/npss", Some(&read)).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    assert!(
        body["error"]["message"].as_str().unwrap().contains("`nps`"),
        "{body}"
    );
    let (status, body) = server.get("/api/v1/nothing", Some(&read)).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, body) = server
        .post("/api/v1/import/planets", &write, "text/csv", "a\n")
        .await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    // 405.
    let (status, body) = server
        .post("/api/v1/kpis", &read, "application/json", "{}")
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    // 413: over server.body_limit_mib (1 MiB here).
    let big = format!("[{}]", " ".repeat(1 << 20));
    let (status, body) = server
        .post("/api/v1/responses", &write, "application/json", big)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
    // 415.
    let (status, body) = server
        .post("/api/v1/responses", &write, "text/plain", "{}")
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let (status, _) = server
        .post("/api/v1/import/orders", &write, "application/pdf", "x")
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // 400: not JSON; 422: more than 1,000 answers, a body without a required column.
    let (status, body) = server
        .post(
            "/api/v1/responses",
            &write,
            "application/json",
            "{\"score\":",
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let many = Value::Array(vec![json!({"response_id": "x"}); 1001]).to_string();
    let (status, body) = server
        .post("/api/v1/responses", &write, "application/json", many)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable")
    );
    let (status, body) = server
        .post(
            "/api/v1/import/orders",
            &write,
            "text/csv",
            "order_id,customer_id\no1,c1\n",
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "refused")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ordered_at"),
        "{body}"
    );
    // 503 once shutting down; health too (a load balancer takes the instance out).
    server.state.begin_shutdown();
    let (status, body) = server.get("/api/v1/kpis", Some(&read)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "shutting_down")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_past_its_rate_gets_429_with_retry_after() {
    let server = Server::new("rate_limit_per_second = 1\nrate_limit_burst = 3\n");
    let read = server.token(Scope::Read, &[]);
    for _ in 0..3 {
        assert_eq!(
            server.get("/api/v1/kpis", Some(&read)).await.0,
            StatusCode::OK
        );
    }
    let request = Request::get("/api/v1/kpis")
        .header(header::AUTHORIZATION, format!("Bearer {read}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = server.send(request).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[header::RETRY_AFTER], "1");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(code(&body), "rate_limited");
    // Another token has a bucket of its own.
    let other = server.token(Scope::Read, &[]);
    assert_eq!(
        server.get("/api/v1/kpis", Some(&other)).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_csv_and_gzip_ndjson_with_rejections_by_line() {
    use std::io::Write;
    let server = Server::new("");
    let write = server.token(Scope::Write, &[]);
    let csv = "ticket_id,customer_id,created_at,first_response_at\nt1,c1,2026-10-01T09:00:00Z,2026-10-01T11:00:00Z\nt2,c2,2026-10-02T09:00:00Z,2026-10-01T09:00:00Z\nt3,c3,yesterday,\n";
    let (status, body) = server
        .post("/api/v1/import/tickets", &write, "text/csv", csv)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["read"].as_u64(),
            body["new"].as_u64(),
            body["rejected"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    let rejections = body["rejections"].as_array().unwrap();
    assert_eq!(rejections[0]["index"], 3);
    assert_eq!(rejections[0]["code"], "out_of_order");
    assert_eq!(rejections[1]["index"], 4);
    assert_eq!(rejections[1]["code"], "invalid_value");

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"order_id\":\"o1\",\"customer_id\":\"c1\",\"ordered_at\":\"2026-10-02\",\"amount\":\"40.00\"}\n{\"order_id\":\"o2\",\"customer_id\":\"c2\",\"ordered_at\":\"2026-10-03\",\"amount\":20}\n").unwrap();
    let request = Request::post("/api/v1/import/orders")
        .header(header::AUTHORIZATION, format!("Bearer {write}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gz.finish().unwrap()))
        .unwrap();
    let (status, _, body) = server.send(request).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["new"], 2);
    // AOV of October by hand: (40 + 20) / 2 = 30.
    let read = server.token(Scope::Read, &[]);
    let (_, body) = server
        .get("/api/v1/kpis/aov?period=2026-10", Some(&read))
        .await;
    assert_close(body["rows"][0]["value"].as_f64().unwrap(), 30.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_keeps_answers_whose_tables_did_not_change() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    let write = server.token(Scope::Write, &[]);
    let entries = |metrics: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("cxkpi_cache_entries "))
            .unwrap()
            .parse()
            .unwrap()
    };
    let metrics = async || {
        let request = Request::get("/api/v1/metrics")
            .header(header::AUTHORIZATION, format!("Bearer {read}"))
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = server.send(request).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("version=0.0.4")
        );
        String::from_utf8(body).unwrap()
    };
    server
        .get("/api/v1/kpis/nps?period=2026-10", Some(&read))
        .await;
    server
        .get(
            "/api/v1/kpis/first_response_time?period=2026-10",
            Some(&read),
        )
        .await;
    let text = metrics().await;
    assert_eq!(entries(&text), 2);
    // The KPIs of the last complete month (October), with the value worked out above.
    assert!(
        text.contains(r#"cxkpi_kpi_value{kpi="nps",period="current",period_label="2026-10",segment_dimension="",segment=""} 0"#),
        "{text}"
    );
    assert!(text.contains(r#"cxkpi_kpi_n{kpi="nps",period="current",period_label="2026-10",segment_dimension="",segment=""} 5"#));
    // A ticket import changes the tickets table: first response time's answer goes, NPS's
    // (responses and customers) stays.
    let (status, _) = server
        .post(
            "/api/v1/import/tickets",
            &write,
            "text/csv",
            "ticket_id,customer_id,created_at\nt1,c1,2026-10-01T09:00:00Z\n",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.get("/api/v1/healthz", None).await;
    assert_eq!(entries(&metrics().await), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    let (status, doc) = server.get("/api/v1/openapi.json", Some(&read)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/healthz",
        "/api/v1/openapi.json",
        "/api/v1/metrics",
        "/api/v1/kpis",
        "/api/v1/kpis/{id}",
        "/api/v1/report",
        "/api/v1/health",
        "/api/v1/survival",
        "/api/v1/drivers/nps",
        "/api/v1/themes",
        "/api/v1/responses",
        "/api/v1/import/{entity}",
        "/api/v1/tokens",
        "/api/v1/tokens/{name}",
        "/api/v1/customers",
        "/api/v1/customers/{id}",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let kpi = &paths["/api/v1/kpis/{id}"]["get"];
    let params: Vec<&str> = kpi["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "id", "period", "from", "to", "grain", "by", "where", "compare"
        ]
    );
    for status in ["200", "400", "401", "403", "404", "429"] {
        assert!(kpi["responses"].get(status).is_some(), "{status}");
    }
    assert!(doc["components"]["schemas"].get("KpiRow").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_views_answer_for_the_workspace() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    for uri in [
        "/api/v1/report?period=2026-10",
        "/api/v1/report?period=2026-10&by=region",
        "/api/v1/health?as_of=2026-11-01",
        "/api/v1/survival?by=region&unit=weeks",
        "/api/v1/drivers/nps?period=2026-10",
        "/api/v1/themes?period=2026-10&top=5",
    ] {
        let (status, body) = server.get(uri, Some(&read)).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    }
    // The scorecard of October holds NPS as worked out above, and says why the KPIs
    // without data are left out.
    let (_, body) = server
        .get("/api/v1/report?period=2026-10", Some(&read))
        .await;
    let nps = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kpi"] == "nps")
        .unwrap();
    assert_close(nps["value"].as_f64().unwrap(), 0.0);
    assert!(
        body["left_out"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kpi"] == "aov" && l["reason"] == "no orders rows in the store"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_customer_and_the_customers_in_worst_health() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    let write = server.token(Scope::Write, &[]);
    let (status, _) = server
        .post(
            "/api/v1/import/tickets",
            &write,
            "text/csv",
            "ticket_id,customer_id,created_at,resolved_at\nt1,c1,2026-10-01T09:00:00Z,\nt2,c1,2026-10-02T09:00:00Z,2026-10-02T12:00:00Z\nt3,c2,2026-10-03T09:00:00Z,\n",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.get("/api/v1/customers/c1", Some(&read)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["customer_id"], "c1");
    // c1's rows: one customer row, answers r1 and r5, tickets t1 and t2.
    assert_eq!(body["rows"]["customers"].as_array().unwrap().len(), 1);
    assert_eq!(body["rows"]["responses"].as_array().unwrap().len(), 2);
    assert_eq!(body["rows"]["tickets"].as_array().unwrap().len(), 2);
    assert!(body["rows"].get("orders").is_none());
    // The latest NPS answer is r5 (6 on 31 October), the open ticket t1.
    assert_eq!(body["latest_nps"]["score"], 6.0);
    assert_eq!(body["latest_nps"]["responded_at"], "2026-10-31T10:00:00Z");
    assert!(body["latest_csat"].is_null());
    assert_eq!(body["open_tickets"], json!(["t1"]));
    // No model is fitted: no CLV and no churn risk, rather than a made-up number.
    assert!(body["clv_12m"].is_null() && body["churn_probability"].is_null());
    assert_eq!(body["health"]["customer_id"], "c1");

    let (status, body) = server.get("/api/v1/customers/c9", Some(&read)).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    // Worst health first: the scores ascend, and top cuts the list.
    let (status, body) = server.get("/api/v1/customers?top=3", Some(&read)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let scores: Vec<f64> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores.len(), 3);
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
    let (status, body) = server.get("/api/v1/customers?band=blue", Some(&read)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
}

/// Issue 17, defect 2: `report --period 2027` on data ending in 2026 printed a full
/// scorecard (0.0% churn, an unchanged MRR). A period after the end of the data has no
/// value, with the reason; one the data ends inside is marked partial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periods_after_the_data_have_no_value_and_partial_ones_say_so() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    let reason = "after the end of the data (last row 2026-10-31 10:00:00 UTC)";
    let (status, body) = server.get("/api/v1/report?period=2027", Some(&read)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rows"], json!([]));
    let left_out = body["left_out"].as_array().unwrap();
    assert_eq!(left_out.len(), cxkpi_core::kpi::CATALOGUE.len());
    // Those over tables without rows say so instead.
    assert!(
        left_out.iter().all(|l| l["reason"] == reason
            || l["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("no ") && r.ends_with(" rows in the store"))),
        "{body}"
    );
    assert!(
        left_out
            .iter()
            .any(|l| l["kpi"] == "nps" && l["reason"] == reason)
    );

    let (_, body) = server
        .get(
            "/api/v1/kpis/nps?from=2026-10-01&to=2026-12-01&grain=month",
            Some(&read),
        )
        .await;
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows[0]["period"], "2026-10");
    assert_close(rows[0]["value"].as_f64().unwrap(), 0.0);
    // The answers run from 3 to 31 October: October is partial at its start only.
    assert_eq!(rows[0]["partial"], true, "{body}");
    assert_eq!(rows[1]["period"], "2026-11");
    assert!(rows[1]["value"].is_null());
    assert_eq!(rows[1]["n"], 0);
    assert_eq!(rows[1]["reason"], reason);
    // ISO week 44 runs to Sunday 1 November, a day past the data.
    let (_, body) = server
        .get("/api/v1/kpis/nps?period=2026-W44", Some(&read))
        .await;
    assert_eq!(body["rows"][0]["partial"], true, "{body}");
    assert_eq!(body["rows"][0]["n"], 1);
    // The customers, won since January, cover October whole, and a period before
    // the first of them has no value.
    let (_, body) = server
        .get(
            "/api/v1/kpis/customers_active?from=2025-12-01&to=2026-11-01&grain=month",
            Some(&read),
        )
        .await;
    let rows = body["rows"].as_array().unwrap();
    assert!(rows[0]["value"].is_null(), "{body}");
    assert_eq!(
        rows[0]["reason"],
        "before the start of the data (first row 2026-01-05 00:00:00 UTC)"
    );
    assert_eq!(rows[1]["partial"], true, "{body}");
    let october = rows.last().unwrap();
    assert_eq!(
        (&october["period"], &october["value"]),
        (&json!("2026-10"), &json!(4.0))
    );
    assert!(october.get("partial").is_none(), "{body}");
}

/// `GET /cohorts` answers the triangle of `cxkpi cohorts --format json`: the four
/// customers (won 5 January, 1 February and two on 1 March, none churned) stay active.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cohorts_by_hand() {
    let server = Server::new("");
    let read = server.token(Scope::Read, &[]);
    let (status, body) = server
        .get(
            "/api/v1/cohorts?from=2026-01-01&to=2026-04-01&by=region",
            Some(&read),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["grain"], &body["measure"]),
        (&json!("month"), &json!("customers"))
    );
    let cohorts: Vec<(String, String, u64, usize)> = body["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(
                c["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|cell| cell["share"] == 100.0)
            );
            (
                c["segment"].as_str().unwrap().to_string(),
                c["cohort"].as_str().unwrap().to_string(),
                c["size"].as_u64().unwrap(),
                c["cells"].as_array().unwrap().len(),
            )
        })
        .collect();
    // Ages run to October, the data's last complete month.
    let expected = [
        ("eu", "2026-01", 1, 10),
        ("eu", "2026-02", 1, 9),
        ("us", "2026-03", 2, 8),
    ];
    assert_eq!(
        cohorts,
        expected.map(|(s, c, n, a)| (s.to_string(), c.to_string(), n, a))
    );
    let (status, body) = server
        .get("/api/v1/cohorts?measure=visits", Some(&read))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
