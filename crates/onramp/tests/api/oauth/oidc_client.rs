//! "Sign up with <platform>" as a vendor's backend does it with an
//! independent OpenID Connect library (the `openidconnect` crate): discovery
//! from the issuer alone, an authorization URL with state, nonce and PKCE,
//! the person's sign-in and consent in a browser, the code exchange, the ID
//! token validated through the JWKS (signature, `iss`, `aud`, `exp`,
//! `nonce`) and userinfo; then a machine client's client credentials,
//! introspection and revocation through the same crate.

use onramp_domain::audit::Actor;
use onramp_domain::tenancy::EnvKind;
use onramp_domain::tenancy::signing::KeyAlg;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreErrorResponseType,
    CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreSubjectIdentifierType, CoreUserInfoClaims,
};
use openidconnect::{
    AdditionalProviderMetadata, AsyncHttpClient as _, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError, HttpRequest, HttpResponse, IntrospectionUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, RequestTokenError, RevocationUrl, Scope,
    TokenIntrospectionResponse as _, TokenResponse as _, reqwest,
};
use serde::{Deserialize, Serialize};

use super::authorize::{REDIRECT, client_query, get, oidc_world_with};
use crate::helpers::{CLIENT_PASSWORD, pid};
use crate::pages::{Browser, World};

/// The vendor's client as discovery builds it: an authorization endpoint,
/// and token and userinfo endpoints if the provider names them.
type Vendor = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A vendor's view of acme/staging: the issuer it was told, and an HTTP
/// client that reaches the test server under the environment's host name.
struct Vendors {
    w: World,
    client_id: String,
    key: String,
    issuer: String,
    http: reqwest::Client,
}

/// [`oidc_world_with`] on a server whose issuer is reachable as advertised
/// (plain http, the port it listens on), with an app signing ID tokens in `alg`.
async fn vendors(alg: KeyAlg) -> Vendors {
    vendors_at(alg, "http").await
}

/// [`vendors`] with the issuer's scheme `scheme`.
async fn vendors_at(alg: KeyAlg, scheme: &'static str) -> Vendors {
    let (w, client_id, key) = oidc_world_with(alg, |s| {
        s.core.public_scheme = scheme.into();
        s.core.public_port = Some(0);
    })
    .await;
    let api = w.fx.server.staging("acme");
    let issuer = format!("{scheme}://{}:{}", api.host, w.fx.server.addr.port());
    let http = reqwest::Client::builder()
        .resolve(&api.host, w.fx.server.addr)
        .no_proxy()
        // The library's advice: never follow redirects (SSRF).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Vendors {
        w,
        client_id,
        key,
        issuer,
        http,
    }
}

impl Vendors {
    async fn discover(&self) -> CoreProviderMetadata {
        let issuer = IssuerUrl::new(self.issuer.clone()).unwrap();
        CoreProviderMetadata::discover_async(issuer, &self.http).await.expect("discovery")
    }

    /// The vendor's client, from discovery, with its key as client secret.
    async fn client(&self) -> Vendor {
        CoreClient::from_provider_metadata(
            self.discover().await,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.key.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    }

    fn browser(&self) -> Browser {
        Browser::new(self.w.fx.server.staging("acme"))
    }
}

/// What the vendor keeps between sending the person off and the callback.
struct Pending {
    code: AuthorizationCode,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

/// The vendor builds the authorization URL; the person follows it in `b`,
/// signs in and allows the app if asked; the callback's state and issuer
/// are checked as the vendor would.
async fn authorize(v: &Vendors, client: &Vendor, b: &mut Browser, scopes: &[&str]) -> Pending {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state, nonce) = request.url();
    let path = url
        .as_str()
        .strip_prefix(&v.issuer)
        .expect("the authorization endpoint is the issuer's");
    let params: Vec<(String, String)> = url.query_pairs().map(|(k, val)| (k.into_owned(), val.into_owned())).collect();
    let mut answer = b.get(path).await;
    if answer.status == 200 {
        assert!(answer.text.contains("action=\"/oauth/authorize/login\""), "{}", answer.text);
        let signed_in = post(
            b,
            "/oauth/authorize/login",
            &params,
            &[("email", "ann@example.com"), ("password", CLIENT_PASSWORD)],
        )
        .await;
        signed_in.expect(303);
        answer = b.get(signed_in.header("location").unwrap()).await;
    }
    if answer.status == 200 {
        assert!(answer.text.contains("action=\"/oauth/authorize/decision\""), "{}", answer.text);
        answer = post(b, "/oauth/authorize/decision", &params, &[("decision", "allow")]).await;
    }
    let q = client_query(&answer, REDIRECT);
    assert_eq!(get(&q, "state"), Some(state.secret().as_str()), "{q:?}");
    assert_eq!(get(&q, "iss"), Some(v.issuer.as_str()), "RFC 9207: {q:?}");
    Pending {
        code: AuthorizationCode::new(get(&q, "code").expect("a code").to_owned()),
        nonce,
        verifier,
    }
}

/// A page's form: the authorization request's parameters, `extra` and the CSRF token.
async fn post(b: &mut Browser, path: &str, params: &[(String, String)], extra: &[(&str, &str)]) -> crate::helpers::Resp {
    let csrf = b.csrf();
    let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    form.extend_from_slice(extra);
    form.push(("csrf", &csrf));
    b.post(path, &form).await
}

/// The `error` of a token request the server refused.
fn refused<E: std::error::Error>(
    result: Result<impl std::fmt::Debug, RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>>,
) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_signs_ann_up_with_the_openidconnect_crate_in_either_algorithm() {
    for (alg, jws) in [
        (KeyAlg::Es256, CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        (KeyAlg::EdDsa, CoreJwsSigningAlgorithm::EdDsa),
    ] {
        let v = vendors(alg).await;
        let meta = v.discover().await;
        assert_eq!(meta.issuer().as_str(), v.issuer);
        // Both keys of the RS256-free set parse.
        assert_eq!(meta.jwks().keys().len(), 2, "{:?}", meta.jwks());
        let client = v.client().await;
        let mut b = v.browser();
        let pending = authorize(&v, &client, &mut b, &["email", "profile"]).await;

        let tokens = client
            .exchange_code(pending.code.clone())
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&v.http)
            .await
            .expect("the code exchange");
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = client.id_token_verifier();
        let claims = id_token.claims(&verifier, &pending.nonce).expect("the ID token validates");
        assert_eq!(id_token.signing_alg().unwrap(), &jws);
        assert_eq!(claims.issuer().as_str(), v.issuer);
        assert_eq!(
            claims.audiences().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            [v.client_id.as_str()]
        );
        assert_eq!(claims.email().map(|e| e.as_str()), Some("ann@example.com"));
        assert_eq!(claims.email_verified(), Some(false));
        assert_eq!(claims.given_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Ann"));
        assert_eq!(claims.family_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Lee"));
        assert_eq!(claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Ann Lee"));
        let auth_time = claims.auth_time().expect("auth_time");
        assert!(
            auth_time <= claims.issue_time() && claims.issue_time() < claims.expiration(),
            "{claims:?}"
        );

        // A nonce other than the one sent fails on the client's side.
        let wrong = id_token.claims(&verifier, &Nonce::new("another".into()));
        assert!(matches!(wrong, Err(ClaimsVerificationError::InvalidNonce(_))), "{wrong:?}");

        // Userinfo answers for the subject of the ID token.
        let info: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
            .unwrap()
            .request_async(&v.http)
            .await
            .expect("userinfo");
        assert_eq!(info.email().map(|e| e.as_str()), Some("ann@example.com"));
        assert_eq!(info.email_verified(), Some(false));
        assert_eq!(info.name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Ann Lee"));

        // The code is single use.
        let replay = client
            .exchange_code(pending.code)
            .unwrap()
            .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
            .request_async(&v.http)
            .await;
        assert_eq!(refused(replay), CoreErrorResponseType::InvalidGrant);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scopes_choose_the_claims_and_a_wrong_verifier_gets_nothing() {
    let v = vendors(KeyAlg::Es256).await;
    let client = v.client().await;
    let mut b = v.browser();
    // Without `email`: a name, no email.
    let pending = authorize(&v, &client, &mut b, &["profile"]).await;
    let tokens = client
        .exchange_code(pending.code)
        .unwrap()
        .set_pkce_verifier(pending.verifier)
        .request_async(&v.http)
        .await
        .expect("the code exchange");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &pending.nonce)
        .unwrap();
    assert_eq!((claims.email(), claims.email_verified()), (None, None), "{claims:?}");
    assert!(claims.given_name().is_some());
    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&v.http)
        .await
        .expect("userinfo");
    assert_eq!((info.email(), info.email_verified()), (None, None), "{info:?}");
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.family_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Lee"));

    // Consent is remembered: the next authorization goes straight through;
    // a verifier other than the challenge's gets invalid_grant.
    let pending = authorize(&v, &client, &mut b, &["email"]).await;
    let (_, other) = PkceCodeChallenge::new_random_sha256();
    let wrong = client
        .exchange_code(pending.code)
        .unwrap()
        .set_pkce_verifier(other)
        .request_async(&v.http)
        .await;
    assert_eq!(refused(wrong), CoreErrorResponseType::InvalidGrant);
}

/// The discovery fields this test's machine client reads beyond OpenID
/// Connect's own: RFC 8414's introspection and revocation endpoints, and
/// RFC 9207's flag.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct OAuthEndpoints {
    introspection_endpoint: IntrospectionUrl,
    revocation_endpoint: RevocationUrl,
    authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for OAuthEndpoints {}

type Metadata = ProviderMetadata<
    OAuthEndpoints,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The TLS proxy production sits behind, as an HTTP client: the crate
/// insists on an `https` revocation endpoint (RFC 7009 §2), so this server
/// advertises `https` and each request reaches it over plain http.
fn through_tls_proxy(http: &reqwest::Client) -> impl Fn(HttpRequest) -> ProxiedResponse {
    move |mut request: HttpRequest| {
        let http = http.clone();
        Box::pin(async move {
            let plain = request.uri().to_string().replacen("https://", "http://", 1);
            *request.uri_mut() = plain.parse().expect("a URI");
            http.call(request).await
        })
    }
}

type ProxiedResponse = std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, HttpClientError<reqwest::Error>>> + Send>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_client_gets_introspects_and_revokes_a_token_with_the_same_crate() {
    let v = vendors_at(KeyAlg::Es256, "https").await;
    assert!(v.issuer.starts_with("https://"), "{}", v.issuer);
    let proxy = through_tls_proxy(&v.http);
    let server = &v.w.fx.server;
    server
        .create_service_user("acme", "staging", "machine", &["service", "reports"])
        .await;
    let issued = server
        .core
        .oauth()
        .add_secret(&Actor::operator(), &pid("acme"), EnvKind::Staging, "machine", None)
        .await
        .unwrap();
    let meta = Metadata::discover_async(IssuerUrl::new(v.issuer.clone()).unwrap(), &proxy)
        .await
        .expect("discovery");
    let extra = meta.additional_metadata().clone();
    assert!(extra.authorization_response_iss_parameter_supported);
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(issued.secret.client_id()),
        Some(ClientSecret::new(issued.client_secret.expose().to_owned())),
    )
    .set_introspection_url(extra.introspection_endpoint)
    .set_revocation_url(extra.revocation_endpoint);

    let tokens = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("reports".into()))
        .request_async(&proxy)
        .await
        .expect("client credentials");
    assert_eq!(
        tokens.scopes().map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        Some(vec!["reports"])
    );
    assert!(tokens.id_token().is_none(), "no person, no ID token");
    let token = tokens.access_token();
    let seen = client.introspect(token).request_async(&proxy).await.expect("introspection");
    assert!(seen.active());
    assert_eq!(seen.client_id().map(|c| c.as_str().to_owned()), Some(issued.secret.client_id()));

    client
        .revoke_token(CoreRevocableToken::AccessToken(token.clone()))
        .unwrap()
        .request_async(&proxy)
        .await
        .expect("revocation");
    let seen = client.introspect(token).request_async(&proxy).await.expect("introspection");
    assert!(!seen.active(), "inactive at once");
    // An unknown scope is refused in the crate's terms.
    let wider = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("admin".into()))
        .request_async(&proxy)
        .await;
    assert_eq!(refused(wider), CoreErrorResponseType::InvalidScope);
}
