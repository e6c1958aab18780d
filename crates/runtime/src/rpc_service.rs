//! Running an RPC daemon's gRPC server the same way everywhere: bind the
//! configured address and port, enforce the `*_hosts_allow` list (reloaded on
//! SIGHUP), TLS when `rpc_tls = yes`, health and reflection, drain on stop.

use crate::context::Context;
use crate::net::bind_tcp;
use crate::node::rpc_server_tls;
use groxide_config::keys::shared;
use groxide_config::{Config, DaemonFile, HostsAllow, Key};
use groxide_rpc::server::Listener;
use groxide_rpc::{AccessList, RpcServer};
use std::net::{IpAddr, SocketAddr};

/// The config keys of one RPC service, all of its daemon's file `F`.
#[derive(Debug, Clone, Copy)]
pub struct RpcEndpoint<F: DaemonFile> {
    /// Service name for logs and errors, e.g. `event`.
    pub service: &'static str,
    /// The listen address, e.g. `event_listen_ip`.
    pub ip: Key<Option<IpAddr>, F>,
    /// The port, e.g. `event_listen_port`.
    pub port: Key<u16, F>,
    /// The access list, e.g. `event_hosts_allow`.
    pub acl: Key<HostsAllow, F>,
}

/// Why an RPC daemon could not serve.
#[derive(Debug, thiserror::Error)]
pub enum RpcServiceError {
    /// Binding the listen address failed.
    #[error("{service}: {source} (keys {ip_key}, {port_key})")]
    Bind {
        /// Service name.
        service: &'static str,
        /// Listen-address key.
        ip_key: &'static str,
        /// Port key.
        port_key: &'static str,
        /// The error, naming the address.
        source: std::io::Error,
    },
    /// TLS could not be set up.
    #[error("{service}: {0}", service = .1)]
    Tls(String, &'static str),
    /// The server stopped with an error.
    #[error(transparent)]
    Serve(#[from] groxide_rpc::ServeError),
}

impl<F: DaemonFile> RpcEndpoint<F> {
    /// The address the config says to listen on.
    pub fn listen_addr(&self, config: &Config<F>) -> SocketAddr {
        let ip = config
            .get(self.ip)
            .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST));
        SocketAddr::new(ip, config.get(self.port))
    }

    /// A server for this endpoint with its access list wired to reloads.
    pub fn server(&self, ctx: &Context<F>) -> Result<RpcServer, RpcServiceError> {
        let config = ctx.config();
        let acl = AccessList::new(self.acl.name(), config.get(self.acl));
        tracing::info!(service = self.service, key = self.acl.name(), allowed = %acl.describe(), "access list");
        let reload_acl = acl.clone();
        let key = self.acl;
        let service = self.service;
        ctx.on_reload(move |cfg| {
            reload_acl.replace(cfg.get(key));
            tracing::info!(service, key = key.name(), allowed = %reload_acl.describe(), "access list reloaded");
        });
        let mut server = RpcServer::new(self.service, acl)
            .with_drain_timeout(config.get(shared::SHUTDOWN_TIMEOUT));
        if let Some(tls) =
            rpc_server_tls(&config).map_err(|e| RpcServiceError::Tls(e, self.service))?
        {
            server = server.with_tls(tls);
        }
        Ok(server)
    }

    /// Binds, reports ready, and serves `server` until shutdown.
    pub async fn serve(&self, ctx: &Context<F>, server: RpcServer) -> Result<(), RpcServiceError> {
        let addr = self.listen_addr(&ctx.config());
        let listener = bind_tcp(addr).map_err(|source| RpcServiceError::Bind {
            service: self.service,
            ip_key: self.ip.name(),
            port_key: self.port.name(),
            source,
        })?;
        ctx.notify_ready();
        server
            .serve(vec![Listener::Tcp(listener)], ctx.shutdown())
            .await?;
        Ok(())
    }
}
