//! HTTP clients bound to a Host, responses read whole, and the checks every
//! problem body must pass.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::contract;
use super::server::{CLIENT_PASSWORD, EVENTUALLY};

/// An HTTP client bound to one Host, optionally with a bearer token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    pub base: String,
    pub host: String,
    pub token: Option<String>,
}

impl Api {
    pub fn new(addr: SocketAddr, host: &str) -> Self {
        // reqwest is built without a default TLS crypto provider (the server installs ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .resolve(host, addr)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            client,
            base: format!("http://{host}:{}", addr.port()),
            host: host.to_owned(),
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn without_token(&self) -> Self {
        Self {
            token: None,
            ..self.clone()
        }
    }

    pub fn token(&self) -> &str {
        self.token.as_deref().expect("a logged-in client")
    }

    /// A request builder with the bearer token (if any) already set.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::GET, path))
    }

    #[track_caller]
    pub fn post(&self, path: &str, body: &Value) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::POST, path).json(body))
    }

    #[track_caller]
    pub fn patch(&self, path: &str, body: &Value) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::PATCH, path).json(body))
    }

    #[track_caller]
    pub fn delete(&self, path: &str) -> impl Future<Output = Resp> + use<> {
        send(self.request(Method::DELETE, path))
    }

    /// Signs a client up (asserting 201) and returns the response body.
    pub async fn signup(&self, email: &str) -> Value {
        let r = self.post("/v1/client/signup", &signup_body(email)).await;
        r.expect(201);
        r.json
    }

    /// Account ids of every page of `GET /v1/client`.
    pub async fn all_account_ids(&self) -> Vec<String> {
        all_pages(async |path| self.get(path).await, "/v1/client", ["user_id", "next_cursor"]).await
    }
}

pub fn signup_body(email: &str) -> Value {
    json!({ "email": email, "name": { "first_name": "Ann", "last_name": "Lee" }, "password": CLIENT_PASSWORD })
}

/// A response, read completely.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, `Null` when it is not JSON.
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem response with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_problem_shape(self);
        assert_eq!(self.json["code"], code, "problem code; body: {}", self.text);
        self
    }

    /// The `field`s of the problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Every error: `application/problem+json` with type, title, status, code and
/// request_id, and the request id also in `X-Request-Id`.
#[track_caller]
pub fn assert_problem_shape(r: &Resp) {
    let ct = r.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/problem+json"), "content type {ct:?}; body: {}", r.text);
    let j = &r.json;
    let code = j["code"].as_str().unwrap_or_else(|| panic!("problem without code: {}", r.text));
    assert!(!code.is_empty());
    let ty = j["type"].as_str().unwrap_or_else(|| panic!("problem without type: {}", r.text));
    assert!(ty.ends_with(code), "type {ty} should name the code {code}");
    assert!(
        j["title"].as_str().is_some_and(|t| !t.is_empty()),
        "problem without title: {}",
        r.text
    );
    assert_eq!(j["status"].as_u64(), Some(u64::from(r.status)), "status in the body: {}", r.text);
    let rid = j["request_id"]
        .as_str()
        .unwrap_or_else(|| panic!("problem without request_id: {}", r.text));
    assert!(!rid.is_empty(), "empty request_id");
    assert_eq!(
        r.header("x-request-id"),
        Some(rid),
        "X-Request-Id header should match the body's request_id"
    );
    if r.status == 401 {
        assert!(r.header("www-authenticate").is_some(), "a 401 needs WWW-Authenticate");
    }
}

/// Sends a request and reads the whole response, checking it against the
/// OpenAPI document (see `contract`).
#[track_caller]
pub fn send(rb: reqwest::RequestBuilder) -> impl Future<Output = Resp> {
    let caller = std::panic::Location::caller();
    async move {
        let (client, request) = rb.build_split();
        let request = request.expect("request built");
        let (method, path) = (request.method().as_str().to_ascii_lowercase(), request.url().path().to_owned());
        let response = client.execute(request).await.expect("request sent");
        let resp = read(response).await;
        let content_type = resp.header("content-type").unwrap_or_default().to_owned();
        if let Err(broken) = contract::check_response(&method, &path, resp.status, &content_type, resp.text.as_bytes()) {
            panic!("{caller}: {broken}");
        }
        resp
    }
}

async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body read");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(status < 500 || status == 503, "server error {status}: {text}");
    Resp {
        status,
        headers,
        text,
        json,
    }
}

/// `POST /v1/login/password`, asserting 200; returns the token.
pub async fn login_token(api: &Api, username: &str, password: &str) -> String {
    let r = api
        .without_token()
        .post("/v1/login/password", &json!({ "username": username, "password": password }))
        .await;
    r.expect(200);
    r.json["api_token"].as_str().expect("api_token").to_owned()
}

/// Retries `check` until it returns `Some`, or panics after [`EVENTUALLY`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Parses an RFC 3339 timestamp, which must be in UTC.
#[track_caller]
pub fn parse_rfc3339(s: &str) -> time::OffsetDateTime {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"));
    assert!(t.offset().is_utc(), "{s:?} is not in UTC");
    t
}

pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The `id` of every item on every page of the cursor-paged list at
/// `list` (`[id field, next-cursor field]`: each API family spells them its way).
pub async fn all_pages(get: impl AsyncFn(&str) -> Resp, list: &str, [id, next]: [&str; 2]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("{list}?limit=200");
    loop {
        let r = get(&path).await;
        r.expect(200);
        let items = r.json["data"].as_array().expect("data");
        ids.extend(items.iter().map(|a| a[id].as_str().expect("id").to_owned()));
        match r.json[next].as_str() {
            Some(c) => path = format!("{list}?limit=200&cursor={c}"),
            None => return ids,
        }
    }
}
