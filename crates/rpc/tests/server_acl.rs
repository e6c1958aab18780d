//! The RPC server against real sockets: the access list at accept time and
//! per request, CIDR and IPv4-mapped entries, the empty list, TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use groxide_config::HostsAllow;
use groxide_rpc::client::{ClientOptions, NodeAddr, channel};
use groxide_rpc::server::Listener;
use groxide_rpc::{AccessList, RpcServer};
use std::net::{IpAddr, SocketAddr};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

struct Running {
    addr: SocketAddr,
    acl: AccessList,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

async fn start(
    bind: &str,
    acl: &str,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
) -> Running {
    let listener = TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acl = AccessList::new("test_hosts_allow", HostsAllow::parse(acl).unwrap());
    let mut server = RpcServer::new("test", acl.clone());
    if let Some(t) = tls {
        server = server.with_tls(t);
    }
    let stop = CancellationToken::new();
    let s = stop.clone();
    let task = tokio::spawn(async move {
        server
            .serve(vec![Listener::Tcp(listener)], s)
            .await
            .unwrap();
    });
    Running {
        addr,
        acl,
        stop,
        task,
    }
}

fn opts(source: &str) -> ClientOptions {
    ClientOptions {
        source_ip: Some(source.parse().unwrap()),
        ..ClientOptions::default()
    }
}

async fn check(addr: SocketAddr, opts: &ClientOptions) -> Result<(), tonic::Status> {
    let ch = channel(
        "test",
        &NodeAddr::new(addr.ip().to_string(), addr.port()),
        opts,
    )
    .unwrap();
    HealthClient::new(ch)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_listed_peer_is_served_and_another_is_refused_with_permission_denied() {
    let r = start("127.0.0.1:0", "127.0.0.1", None).await;
    check(r.addr, &opts("127.0.0.1")).await.unwrap();
    let err = check(r.addr, &opts("127.0.0.2")).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    assert!(err.message().contains("127.0.0.2"), "{}", err.message());
    assert_eq!(
        groxide_rpc::reason::reason_of(&err),
        Some(groxide_rpc::reason::Reason::PeerNotAllowed)
    );
    r.stop.cancel();
    r.task.await.unwrap();
}

#[tokio::test]
async fn cidr_entries_and_ipv4_mapped_entries_admit_the_peer() {
    let r = start("127.0.0.1:0", "127.0.0.0/30", None).await;
    check(r.addr, &opts("127.0.0.2")).await.unwrap();
    check(r.addr, &opts("127.0.0.3")).await.unwrap();
    assert!(check(r.addr, &opts("127.0.0.4")).await.is_err());
    r.acl
        .replace(HostsAllow::parse("::ffff:127.0.0.4").unwrap());
    check(r.addr, &opts("127.0.0.4")).await.unwrap();
    r.stop.cancel();
}

#[tokio::test]
async fn the_empty_list_admits_only_ipv6_loopback() {
    let r = start("127.0.0.1:0", "", None).await;
    let err = check(r.addr, &opts("127.0.0.1")).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    r.stop.cancel();
    if let Ok(l) = TcpListener::bind("[::1]:0").await {
        drop(l);
        let r6 = start("[::1]:0", "", None).await;
        check(r6.addr, &opts("::1")).await.unwrap();
        r6.stop.cancel();
    }
}

#[tokio::test]
async fn a_removed_peer_is_refused_on_its_already_open_connection() {
    let r = start("127.0.0.1:0", "127.0.0.1", None).await;
    let ch = channel(
        "test",
        &NodeAddr::new("127.0.0.1", r.addr.port()),
        &opts("127.0.0.1"),
    )
    .unwrap();
    let mut client = HealthClient::new(ch);
    client.check(HealthCheckRequest::default()).await.unwrap();
    r.acl.replace(HostsAllow::parse("127.0.0.9").unwrap());
    let err = client
        .check(HealthCheckRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied);
    r.stop.cancel();
}

#[tokio::test]
async fn an_unreachable_node_is_named_in_the_error() {
    // Free and reserved for this test: nothing listens there.
    let port = groxide_testkit::free_local_port();
    let node = NodeAddr::new("127.0.0.1", port);
    let ch = channel("exmdb", &node, &opts("127.0.0.1")).unwrap();
    let status = HealthClient::new(ch)
        .check(HealthCheckRequest::default())
        .await
        .unwrap_err();
    let err = groxide_rpc::RpcError::from_status("exmdb", &node, status);
    assert!(err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{port}")) && text.contains("unreachable"),
        "{text}"
    );
}

fn tls_material(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress(IpAddr::from([127, 0, 0, 1]))];
    let cert = params.signed_by(&key, &issuer).unwrap();
    let (ca_p, cert_p, key_p) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_p, ca.pem()).unwrap();
    std::fs::write(&cert_p, cert.pem()).unwrap();
    std::fs::write(&key_p, key.serialize_pem()).unwrap();
    (ca_p, cert_p, key_p)
}

#[tokio::test]
async fn tls_with_client_certificates_serves_a_trusted_client_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_material(dir.path());
    let server_tls = groxide_rpc::tls::server_config(&cert, &key, Some(&ca)).unwrap();
    let r = start("127.0.0.1:0", "127.0.0.1", Some(server_tls)).await;
    let mut good = opts("127.0.0.1");
    good.tls = Some(groxide_rpc::tls::client_config(&ca, Some((&cert, &key))).unwrap());
    check(r.addr, &good).await.unwrap();
    // Plaintext to a TLS server fails; so does a client without a certificate.
    assert!(check(r.addr, &opts("127.0.0.1")).await.is_err());
    let mut anonymous = opts("127.0.0.1");
    anonymous.tls = Some(groxide_rpc::tls::client_config(&ca, None).unwrap());
    assert!(check(r.addr, &anonymous).await.is_err());
    r.stop.cancel();
}
