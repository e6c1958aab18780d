//! An in-process groxide-exmdb and the EWS module over it, shared by the
//! service and Thunderbird tests.
#![allow(dead_code)]

use groxide_directory::{AddressStatus, DomainId, PrivilegeBits, ServerId, User, UserId};
use groxide_ews::Ews;
use groxide_ews::xml::{NS_MESSAGES, NS_SOAP, NS_TYPES};
use groxide_http_core::Principal;
use groxide_rpc::ClientOptions;
use groxide_rpc::exmdb_client::{ExmdbClient, folder_role};
use groxide_rpc::pb::exmdb::v1 as xpb;
use groxide_runtime::Routing;
use groxide_testkit::{InProcess, LocalNode};
use std::sync::Arc;

pub struct Harness {
    _local: LocalNode,
    _exmdb: InProcess<groxide_config::Exmdb>,
    data: tempfile::TempDir,
    pub client: Arc<ExmdbClient>,
    pub ews: Arc<Ews>,
}

pub fn principal(name: &str, dir: &str) -> Principal {
    Principal {
        user: Arc::new(User {
            id: UserId(1),
            username: name.into(),
            domain_id: DomainId(1),
            maildir: dir.into(),
            homeserver: ServerId::ANY,
            address_status: AddressStatus::NORMAL,
            privilege_bits: PrivilegeBits(u32::MAX),
            lang: String::new(),
            timezone: String::new(),
        }),
        scheme: "Basic",
    }
}

/// A user's store and the EWS module answering for that user.
pub struct Session<'h> {
    pub h: &'h Harness,
    pub who: Principal,
    pub dir: String,
}

impl Harness {
    pub async fn start() -> Harness {
        let local = LocalNode::new();
        let exmdb = local
            .start(groxide_exmdb::ENDPOINT, groxide_exmdb::run)
            .await;
        let routing = Routing::load(&exmdb.config(), None).unwrap();
        let client = Arc::new(ExmdbClient::new(
            routing.exmdb().clone(),
            ClientOptions::default(),
        ));
        Harness {
            _local: local,
            _exmdb: exmdb,
            data: tempfile::tempdir().unwrap(),
            ews: Ews::new(client.clone()),
            client,
        }
    }

    pub async fn user(&self, name: &str) -> Session<'_> {
        let dir = self.data.path().join(name).to_string_lossy().into_owned();
        self.client
            .create_store(xpb::CreateStoreRequest {
                dir: dir.clone(),
                r#type: xpb::StoreType::Private as i32,
                owner: name.into(),
                lang: String::new(),
                quota_bytes: 0,
            })
            .await
            .unwrap();
        Session {
            h: self,
            who: principal(name, &dir),
            dir,
        }
    }
}

pub fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soap:Envelope xmlns:soap=\"{NS_SOAP}\" xmlns:t=\"{NS_TYPES}\" xmlns:m=\"{NS_MESSAGES}\">\
         <soap:Header><t:RequestServerVersion Version=\"Exchange2016\"/></soap:Header>\
         <soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

pub fn message(subject: &str, date: &str) -> Vec<u8> {
    format!(
        "From: Alice Sender <alice@remote.test>\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\
         Date: {date}\r\nMessage-ID: <{subject}@remote.test>\r\n\r\nHello, {subject}.\r\n"
    )
    .into_bytes()
}

impl Session<'_> {
    /// The raw answer to a request body: (fault, document).
    pub async fn answer(&self, body: &[u8]) -> (bool, String) {
        self.h.ews.answer(&self.who, body).await
    }

    pub async fn deliver(&self, raw: &[u8], internal_date: i64) {
        self.h
            .client
            .insert_message_bytes(
                xpb::InsertHeader {
                    dir: self.dir.clone(),
                    folder: Some(folder_role("inbox")),
                    flags: 0,
                    keywords: Vec::new(),
                    internal_date,
                    expected_size: raw.len() as u64,
                },
                raw.to_vec(),
            )
            .await
            .unwrap();
    }
}
