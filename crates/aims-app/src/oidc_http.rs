//! The HTTP client single sign-on talks to the identity provider with (discovery, keys, token
//! exchange): hyper's HTTP/1 client over tokio-rustls, the same stack as the webhook sender,
//! so the binary has one TLS implementation. It never follows a redirect (a provider cannot
//! send aims to an address of its choosing: SSRF), bounds the answer's size and time, and
//! speaks plain http only to loopback (a provider run beside aims for development and tests).

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Bytes;
use openidconnect::{HttpRequest, HttpResponse};

/// How long one call to the provider may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from the provider (discovery documents and key sets are small).
const MAX_BODY: usize = 1024 * 1024;

/// Why a call to the provider failed, in words for the sign-in page and the log.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OidcHttpError(String);

/// One request to the provider; the function openidconnect calls for every HTTP exchange.
pub async fn call(request: HttpRequest) -> Result<HttpResponse, OidcHttpError> {
    tokio::time::timeout(TIMEOUT, send(request))
        .await
        .map_err(|_| OidcHttpError(format!("the identity provider did not answer within {} s", TIMEOUT.as_secs())))?
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

async fn send(request: HttpRequest) -> Result<HttpResponse, OidcHttpError> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let fail = |why: String| OidcHttpError(format!("{url}: {why}"));
    let https = match parts.uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(fail("not an http(s) URL".into())),
    };
    let host = parts.uri.host().ok_or_else(|| fail("no host".into()))?.trim_start_matches('[').trim_end_matches(']').to_owned();
    if !https && !is_loopback(&host) {
        return Err(fail("plain http is only used on loopback; the provider must use https".into()));
    }
    let port = parts.uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = parts.uri.authority().map_or_else(|| host.clone(), |a| a.as_str().to_owned());
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut builder = hyper::Request::builder().method(parts.method.clone()).uri(path);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "aims-sso")
        .body(http_body_util::Full::new(Bytes::from(body)))
        .map_err(|e| fail(e.to_string()))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| fail(e.to_string()))?;
    if !https {
        return exchange(hyper_util::rt::TokioIo::new(tcp), request).await.map_err(fail);
    }
    let roots = tokio_rustls::rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[allow(deprecated)] // ring without post-quantum key exchange, as the webhook sender; see `Cargo.toml`
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| fail(e.to_string()))?;
    let tls =
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.map_err(|e| fail(format!("TLS: {e}")))?;
    exchange(hyper_util::rt::TokioIo::new(tls), request).await.map_err(fail)
}

/// Sends the request on a fresh connection and reads the whole answer (up to [`MAX_BODY`]).
/// A redirect is returned as it is, never followed.
async fn exchange<I>(io: I, request: hyper::Request<http_body_util::Full<Bytes>>) -> Result<HttpResponse, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("reading the answer (at most {MAX_BODY} bytes): {e}"))?
        .to_bytes();
    Ok(HttpResponse::from_parts(parts, body.to_vec()))
}
