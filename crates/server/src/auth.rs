//! Who is calling: the bearer token (hashed and compared in constant time by
//! `cxkpi_app::tokens`), its scope, its origin, and its rate.
//!
//! The token file is read again whenever it changes on disk, so `cxkpi token revoke`
//! takes effect in a running server with the next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cxkpi_app::tokens::{self, Scope, Token, TokenSet};

use crate::error::ApiError;
use crate::{AppState, Shared, Stamp};

/// The tokens as last read, with the file's metadata then.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    current: RwLock<(Stamp, Arc<TokenSet>)>,
}

impl Tokens {
    /// The tokens, read again if the file changed.
    pub(crate) fn get(&self, store: &cxkpi_store::Store) -> Result<Arc<TokenSet>, ApiError> {
        let path = store.root().join(tokens::TOKENS_FILE);
        let now = crate::file_stamp(&path);
        {
            let current = self.current.read().expect("not poisoned");
            if current.0 == now && now.is_some() {
                return Ok(Arc::clone(&current.1));
            }
        }
        let set = Arc::new(tokens::load(store)?);
        *self.current.write().expect("not poisoned") = (now, Arc::clone(&set));
        Ok(set)
    }
}

/// A token bucket per token: `rate` requests a second on average, `burst` at once.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `name`'s bucket; when it is empty, the seconds until it
    /// holds one again.
    pub(crate) fn take(&self, name: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("not poisoned");
        let (level, at) = buckets.entry(name.to_string()).or_insert((self.burst, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *level) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

/// An authenticated caller: its token checked, its origin allowed, its rate kept.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token.
    pub token: Token,
}

impl Caller {
    /// Refuses (403) a caller whose scope does not permit `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.token.scope.permits(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token `{}` has scope {}; this needs {}",
                self.token.name,
                self.token.scope.as_str(),
                match needed {
                    Scope::Survey => "survey, write or admin",
                    Scope::Read => "read, write or admin",
                    Scope::Write => "write or admin",
                    Scope::Admin => "admin",
                }
            )))
        }
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("send a token: Authorization: Bearer TOKEN (`cxkpi token create`)")
    })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not `Bearer TOKEN`"))
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, ApiError> {
        let state = AppState::from_ref(state);
        let shared: &Shared = &state.0;
        let secret = bearer(&parts.headers)?;
        let set = shared.tokens.get(&shared.store)?;
        let token = set
            .authenticate(secret)
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("the token is not valid (unknown or revoked)"))?;
        if let Some(origin) = parts.headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let allowed = match token.scope {
                Scope::Survey => token.origins.iter().any(|o| o == origin),
                _ => shared
                    .config()
                    .server
                    .cors_origins
                    .iter()
                    .any(|o| o == origin),
            };
            if !allowed {
                return Err(ApiError::forbidden(format!(
                    "token `{}` may not be used from origin {origin}",
                    token.name
                )));
            }
        }
        if let Err(seconds) = shared.limiter.take(&token.name) {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "token `{}` made more than {} requests a second; retry after {seconds} s",
                    token.name,
                    shared.config().server.rate_limit_per_second
                ),
            );
            e.retry_after = Some(seconds);
            return Err(e);
        }
        Ok(Caller { token })
    }
}

/// Whether any token or the configuration allows `origin` (for CORS answers; each
/// request's token is checked again by [`Caller`]).
fn origin_allowed(shared: &Shared, origin: &str) -> bool {
    shared
        .config()
        .server
        .cors_origins
        .iter()
        .any(|o| o == origin)
        || shared
            .tokens
            .get(&shared.store)
            .is_ok_and(|set| set.tokens().any(|t| t.origins.iter().any(|o| o == origin)))
}

/// CORS: answers preflight requests and marks responses readable by pages of an
/// allowed origin. Other origins get no CORS headers, so browsers keep them out.
pub(crate) async fn cors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let allowed = origin
        .as_deref()
        .filter(|o| origin_allowed(&state.0, o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some(origin) = allowed {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, content-encoding"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        return response;
    }
    let mut response = next.run(request).await;
    if let Some(origin) = allowed {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_at_its_rate() {
        let limiter = RateLimiter::new(10.0, 3.0);
        for _ in 0..3 {
            assert!(limiter.take("a").is_ok());
        }
        // Empty: one request needs a tenth of a second, answered as 1 s (whole seconds).
        assert_eq!(limiter.take("a"), Err(1));
        // Another token has its own bucket.
        assert!(limiter.take("b").is_ok());
        std::thread::sleep(std::time::Duration::from_millis(120));
        assert!(limiter.take("a").is_ok());
    }
}
