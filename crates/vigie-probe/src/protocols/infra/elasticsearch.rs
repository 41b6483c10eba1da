//! Elasticsearch (and OpenSearch): `GET /` answered with the cluster's
//! description instead of 401 means anyone on the network reads the
//! indices (`elasticsearch.no_auth`); the answer gives the version. One
//! read-only request; it never queries or changes an index.

use vigie_core::probe::Service;

use crate::catalog;
use crate::protocols::infra::cursor::{ParseError, printable};
use crate::protocols::infra::http;
use crate::protocols::infra::wire::Conn;
use crate::target::{Context, PortResult, Target};

pub const PORTS: &[u16] = &[9200];

/// What `GET /` established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// `Elasticsearch` or `OpenSearch`.
    pub product: String,
    pub version: Option<String>,
    pub cluster: Option<String>,
    /// Answered without credentials.
    pub open: bool,
}

/// Reads the answer to `GET /`; an error if it is not Elasticsearch.
pub fn parse_root(bytes: &[u8]) -> Result<Root, ParseError> {
    let response = http::parse_response(bytes)?;
    let not_it = || ParseError::invalid("Elasticsearch root", "not an Elasticsearch answer");
    // Elasticsearch 7.14+ names itself in a header, even on a 401.
    let named = response
        .header("x-elastic-product")
        .is_some_and(|p| p.eq_ignore_ascii_case("Elasticsearch"));
    if response.status == 401 {
        let realm = response
            .header("www-authenticate")
            .is_some_and(|a| a.contains("realm=\"security\""));
        return if named || realm {
            Ok(Root {
                product: "Elasticsearch".to_owned(),
                version: None,
                cluster: None,
                open: false,
            })
        } else {
            Err(not_it())
        };
    }
    if response.status != 200 {
        return Err(not_it());
    }
    let json: serde_json::Value = serde_json::from_slice(response.body)
        .map_err(|e| ParseError::invalid("Elasticsearch root", e.to_string()))?;
    let text = |value: &serde_json::Value| value.as_str().map(|s| printable(s.as_bytes(), 60));
    let tagline = json.get("tagline").and_then(serde_json::Value::as_str);
    let version = json.get("version");
    let looks_like = tagline.is_some_and(|t| t.contains("for Search"))
        || (json.get("cluster_name").is_some() && version.is_some());
    if !(named || looks_like) {
        return Err(not_it());
    }
    let distribution = version.and_then(|v| v.get("distribution")).and_then(text);
    Ok(Root {
        product: if distribution.as_deref() == Some("opensearch") {
            "OpenSearch".to_owned()
        } else {
            "Elasticsearch".to_owned()
        },
        version: version.and_then(|v| v.get("number")).and_then(text),
        cluster: json.get("cluster_name").and_then(text),
        open: true,
    })
}

pub async fn examine(target: &Target, ctx: &Context) -> Option<PortResult> {
    let mut conn = Conn::open(target, ctx).await.ok()?;
    let host = target.socket().to_string();
    conn.send(&http::request("GET", "/", &host, None, b""))
        .await
        .ok()?;
    let bytes = conn.receive(http::complete_length).await.ok()?;
    conn.close().await;
    let root = parse_root(&bytes).ok()?;
    let service = Service {
        port: target.port,
        transport: target.transport,
        name: "elasticsearch".to_owned(),
        product: Some(root.product.clone()),
        version: root.version.clone(),
        tls: false,
        banner: root.cluster.as_ref().map(|c| format!("cluster {c}")),
    };
    let mut result = PortResult::service(service);
    if root.open {
        let evidence = format!(
            "GET / répond sans authentification : {} {}{}",
            root.product,
            root.version.as_deref().unwrap_or("(version inconnue)"),
            root.cluster
                .as_deref()
                .map(|c| format!(", cluster « {c} »"))
                .unwrap_or_default()
        );
        result
            .findings
            .push(catalog::finding("elasticsearch.no_auth", target, evidence));
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\n  \"name\" : \"node-1\",\n  \"cluster_name\" : \"mairie\",\n  \"version\" : {\n    \"number\" : \"7.17.9\",\n    \"build_flavor\" : \"default\"\n  },\n  \"tagline\" : \"You Know, for Search\"\n}\n";

    #[test]
    fn an_open_cluster_gives_its_version() {
        let root = parse_root(OPEN).unwrap();
        assert!(root.open);
        assert_eq!(root.product, "Elasticsearch");
        assert_eq!(root.version.as_deref(), Some("7.17.9"));
        assert_eq!(root.cluster.as_deref(), Some("mairie"));
    }

    #[test]
    fn a_protected_cluster_is_not_open() {
        let root = parse_root(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"\r\nX-elastic-product: Elasticsearch\r\ncontent-length: 0\r\n\r\n").unwrap();
        assert!(!root.open);
    }

    #[test]
    fn opensearch_is_named() {
        let root = parse_root(b"HTTP/1.1 200 OK\r\n\r\n{\"cluster_name\":\"c\",\"version\":{\"distribution\":\"opensearch\",\"number\":\"2.11.0\"},\"tagline\":\"The OpenSearch Project: https://opensearch.org/\"}").unwrap();
        assert_eq!(root.product, "OpenSearch");
    }

    #[test]
    fn other_web_servers_are_not_elasticsearch() {
        for bytes in [
            &b"HTTP/1.1 200 OK\r\n\r\n<html>Mairie</html>"[..],
            &b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"admin\"\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\n\r\n{\"status\":\"ok\"}"[..],
            &b"+PONG\r\n"[..],
        ] {
            assert!(parse_root(bytes).is_err());
        }
    }
}
