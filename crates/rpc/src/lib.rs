//! groxide's RPC layer: the gRPC contracts of proto/, one server builder that
//! every RPC daemon uses (peer ACL at accept time and per request, health,
//! reflection, optional TLS, graceful drain), and clients whose connections
//! leave from this node's own address.
//!
//! This is the only crate that knows protobuf types; daemons translate to and
//! from their own types at the edge.

pub mod acl;
pub mod client;
pub mod event_hub;
pub mod event_publisher;
pub mod exmdb_client;
pub mod items;
pub mod midb_view;
pub mod oof;
pub mod reason;
mod remote_view;
pub mod routed;
pub mod server;
pub mod timer_client;
pub mod tls;

pub use acl::AccessList;
pub use client::{ChannelPool, ClientOptions, NodeAddr, RpcError};
pub use event_hub::{EventHub, EventLocator, HubSettings};
pub use event_publisher::EventPublisher;
pub use exmdb_client::ExmdbClient;
pub use routed::RoutedClient;
pub use server::{RpcServer, ServeError};
pub use timer_client::TimerClient;

/// Generated protobuf and gRPC code, one module per contract.
#[allow(missing_docs, clippy::all, clippy::unwrap_used)]
pub mod pb {
    /// `groxide.common.v1`: UID ranges and flag changes, shared by the others.
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("groxide.common.v1");
        }
    }
    /// `groxide.exmdb.v1`: the mailbox store.
    pub mod exmdb {
        pub mod v1 {
            tonic::include_proto!("groxide.exmdb.v1");
        }
    }
    /// `groxide.midb.v1`: the IMAP/POP3 view of a store.
    pub mod midb {
        pub mod v1 {
            tonic::include_proto!("groxide.midb.v1");
        }
    }
    /// `groxide.event.v1`: change notifications.
    pub mod event {
        pub mod v1 {
            tonic::include_proto!("groxide.event.v1");
        }
    }
    /// `groxide.timer.v1`: persistent scheduled jobs.
    pub mod timer {
        pub mod v1 {
            tonic::include_proto!("groxide.timer.v1");
        }
    }
}

/// The encoded descriptor set of every groxide contract (served by reflection).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("groxide_descriptor");
