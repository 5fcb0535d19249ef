//! Fixtures of the limit tests: clients at other loopback addresses (the
//! server sees 127.0.0.2, 127.0.0.3, … as different client addresses), a
//! browser that signs in through the pages from such an address, and a TCP
//! proxy in front of Redis that a test can cut to simulate losing it.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use onramp_domain::partners::provisioning::encode_component;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{Resp, TestServer, host, send};

/// A client of one environment's host whose connections come from
/// `127.0.0.<n>`.
#[derive(Clone)]
pub struct From {
    client: reqwest::Client,
    base: String,
    pub ip: IpAddr,
    token: Option<String>,
}

impl From {
    pub fn new(server: &TestServer, env: &str, n: u8) -> Self {
        Self::at(server.addr, &host("acme", env), n)
    }

    pub fn at(addr: SocketAddr, host: &str, n: u8) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, n));
        let client = reqwest::Client::builder()
            .resolve(host, addr)
            .local_address(ip)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            client,
            base: format!("http://{host}:{}", addr.port()),
            ip,
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST /v1/login/password`.
    pub async fn service_login(&self, username: &str, password: &str) -> Resp {
        self.post(
            "/v1/login/password",
            &serde_json::json!({ "username": username, "password": password }),
        )
        .await
    }
}

/// A browser at one address: keeps its cookies and repeats the CSRF token
/// of the last page it read.
pub struct Browser {
    at: From,
    cookies: Vec<(String, String)>,
    csrf: String,
}

impl Browser {
    pub fn new(at: From) -> Self {
        Self {
            at,
            cookies: Vec::new(),
            csrf: String::new(),
        }
    }

    fn keep(&mut self, r: &Resp) {
        for value in r.headers.get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            self.cookies.push((name.to_owned(), val.to_owned()));
        }
        let marker = r#"name="csrf" value=""#;
        if let Some(start) = r.text.find(marker).map(|i| i + marker.len()) {
            self.csrf = r.text[start..start + r.text[start..].find('"').unwrap()].to_owned();
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let r = send(self.at.request(Method::GET, path).header("cookie", self.cookie_header())).await;
        self.keep(&r);
        r
    }

    /// Posts a form with the current CSRF token added.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = form
            .iter()
            .chain([&("csrf", self.csrf.as_str())])
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        let rb = self.at.request(Method::POST, path).header("cookie", self.cookie_header());
        let r = send(rb.header("content-type", "application/x-www-form-urlencoded").body(body)).await;
        self.keep(&r);
        r
    }

    /// Posts the sign-in form (after reading it once for its token).
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        if self.csrf.is_empty() {
            self.get("/account/login").await.expect(200);
        }
        self.post("/account/login", &[("email", email), ("password", password), ("next", "/account")])
            .await
    }
}

/// A TCP proxy to Redis that a test can cut: while cut, what either side
/// sends is swallowed (a Redis that hangs, or a network that drops
/// packets), and scripts the node sends meanwhile are counted. Restoring it
/// resets the connections that lived through the cut, as a healed network
/// would, and forwards again.
pub struct CuttableProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    /// Bumped on restore: connections of an older generation close.
    generation: watch::Sender<u64>,
    scripts_while_cut: Arc<AtomicUsize>,
    scripts_relayed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    pub async fn to(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let (swallowed, relayed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (generation, _) = watch::channel(0u64);
        let task = {
            let counts = [Arc::clone(&swallowed), Arc::clone(&relayed)];
            let (cut, generation) = (Arc::clone(&cut), generation.clone());
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let ended = generation.subscribe();
                    tokio::spawn(relay(client, upstream, Arc::clone(&cut), counts.clone(), ended));
                }
            })
        };
        Self {
            port,
            cut,
            generation,
            scripts_while_cut: swallowed,
            scripts_relayed: relayed,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.generation.send_modify(|g| *g += 1);
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Scripts (`EVAL`/`EVALSHA`) the node sent while the proxy was cut.
    pub fn scripts_while_cut(&self) -> usize {
        self.scripts_while_cut.load(Ordering::SeqCst)
    }

    /// Scripts passed on to Redis.
    pub fn scripts_relayed(&self) -> usize {
        self.scripts_relayed.load(Ordering::SeqCst)
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    cut: Arc<AtomicBool>,
    [swallowed, relayed]: [Arc<AtomicUsize>; 2],
    mut ended: watch::Receiver<u64>,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let born = *ended.borrow_and_update();
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let (mut up, mut down) = ([0u8; 16 * 1024], [0u8; 16 * 1024]);
    loop {
        tokio::select! {
            n = from_client.read(&mut up) => {
                let Ok(n @ 1..) = n else { return };
                if cut.load(Ordering::SeqCst) {
                    swallowed.fetch_add(count_scripts(&up[..n]), Ordering::SeqCst);
                } else {
                    relayed.fetch_add(count_scripts(&up[..n]), Ordering::SeqCst);
                    if to_server.write_all(&up[..n]).await.is_err() {
                        return;
                    }
                }
            }
            n = from_server.read(&mut down) => {
                let Ok(n @ 1..) = n else { return };
                if !cut.load(Ordering::SeqCst) && to_client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
            changed = ended.changed() => {
                if changed.is_err() || *ended.borrow() != born {
                    return;
                }
            }
        }
    }
}

/// RESP commands are arrays of bulk strings: a script call carries the bulk
/// string `EVAL` or `EVALSHA`.
fn count_scripts(bytes: &[u8]) -> usize {
    [&b"$4\r\nEVAL\r\n"[..], &b"$7\r\nEVALSHA\r\n"[..]]
        .iter()
        .map(|needle| bytes.windows(needle.len()).filter(|w| w.eq_ignore_ascii_case(needle)).count())
        .sum()
}
