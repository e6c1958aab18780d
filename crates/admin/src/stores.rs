//! Creating and removing stores through groxide-exmdb on their home node.

use crate::failure::Failure;
use groxide_rpc::RoutedClient;
use groxide_rpc::pb::exmdb::v1::{
    CreateStoreRequest, DeleteStoreRequest, StoreType, exmdb_client::ExmdbClient,
};

/// What a store is created for.
pub(crate) struct StoreSpec<'a> {
    pub dir: &'a str,
    pub public: bool,
    pub owner: &'a str,
    pub lang: &'a str,
    pub quota_bytes: u64,
}

/// Creates the store (idempotent); true when it did not exist before.
pub(crate) async fn create(client: &RoutedClient, spec: &StoreSpec<'_>) -> Result<bool, Failure> {
    let message = CreateStoreRequest {
        dir: spec.dir.to_string(),
        r#type: if spec.public {
            StoreType::Public
        } else {
            StoreType::Private
        } as i32,
        owner: spec.owner.to_string(),
        lang: spec.lang.to_string(),
        quota_bytes: spec.quota_bytes,
    };
    let timeout = client.request_timeout();
    let reply = client
        .call_idempotent(spec.dir, |channel| {
            let mut request = tonic::Request::new(message.clone());
            request.set_timeout(timeout);
            async move { ExmdbClient::new(channel).create_store(request).await }
        })
        .await?;
    Ok(reply.into_inner().created)
}

/// Removes the store; a store that is not there counts as removed.
pub(crate) async fn delete(client: &RoutedClient, dir: &str) -> Result<(), Failure> {
    let timeout = client.request_timeout();
    let result = client
        .call(dir, |channel| {
            let mut request = tonic::Request::new(DeleteStoreRequest {
                dir: dir.to_string(),
            });
            request.set_timeout(timeout);
            async move { ExmdbClient::new(channel).delete_store(request).await }
        })
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.status()
                .is_some_and(|s| s.code() == tonic::Code::NotFound) =>
        {
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
