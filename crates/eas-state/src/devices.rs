//! Device state kept in the user's own store, so that any node serving the
//! user can serve the device and a restart loses nothing: a folder
//! `groxide-eas` below the store's root (outside the IPM subtree, so no
//! client lists it), one subfolder per device (named by its DeviceId; the
//! device record and the hierarchy state are its properties), and below it
//! one folder per synced collection (named by the CollectionId; the
//! current and the previous collection state are its properties). Every
//! write is one exmdb commit, acknowledged once durable.

use crate::state::{CollectionState, Device, Hierarchy};
use groxide_mapi::{PropTag, PropType, PropValue};
use groxide_rpc::exmdb_client::{folder_id, folder_role};
use groxide_rpc::items::{prop_from_pb, prop_to_pb};
use groxide_rpc::pb::exmdb::v1 as pb;
use groxide_rpc::reason::Reason;
use groxide_rpc::{ExmdbClient, RpcError};

/// The container folder's name below the store root.
pub const CONTAINER: &str = "groxide-eas";

const DEVICE_TAG: PropTag = PropTag::new(0x7E20, PropType::Binary);
const HIERARCHY_TAG: PropTag = PropTag::new(0x7E21, PropType::Binary);
const STATE_TAG: PropTag = PropTag::new(0x7E22, PropType::Binary);
const PREVIOUS_TAG: PropTag = PropTag::new(0x7E23, PropType::Binary);

/// Device state of one store.
pub struct Devices<'a> {
    exmdb: &'a ExmdbClient,
    dir: &'a str,
}

fn binary(props: &[pb::Prop], tag: PropTag) -> Option<Vec<u8>> {
    props
        .iter()
        .filter(|p| p.tag == tag.0)
        .find_map(|p| match prop_from_pb(p) {
            Ok((_, PropValue::Binary(b))) => Some(b),
            _ => None,
        })
}

fn is_missing(e: &RpcError) -> bool {
    matches!(e.reason(), Some(Reason::NoSuchFolder))
}

impl<'a> Devices<'a> {
    /// The device state of the store at `dir`.
    pub fn new(exmdb: &'a ExmdbClient, dir: &'a str) -> Devices<'a> {
        Devices { exmdb, dir }
    }

    async fn folders(&self) -> Result<Vec<pb::Folder>, RpcError> {
        Ok(self
            .exmdb
            .list_folders(pb::ListFoldersRequest {
                dir: self.dir.to_string(),
                prop_tags: Vec::new(),
            })
            .await?
            .folders)
    }

    async fn child(
        &self,
        folders: &mut Vec<pb::Folder>,
        parent: Option<u64>,
        name: &str,
        create: bool,
    ) -> Result<Option<u64>, RpcError> {
        let parent_id = match parent {
            Some(p) => p,
            None => match folders.iter().find(|f| f.role == "root") {
                Some(root) => root.id,
                None => return Ok(None),
            },
        };
        if let Some(f) = folders
            .iter()
            .find(|f| f.parent_id == parent_id && f.name == name)
        {
            return Ok(Some(f.id));
        }
        if !create {
            return Ok(None);
        }
        let created = self
            .exmdb
            .create_folder(pb::CreateFolderRequest {
                dir: self.dir.to_string(),
                parent: Some(if parent.is_some() {
                    folder_id(parent_id)
                } else {
                    folder_role("root")
                }),
                name: name.to_string(),
                container_class: String::new(),
            })
            .await;
        match created {
            Ok(f) => {
                folders.push(f.clone());
                Ok(Some(f.id))
            }
            // Another request of the same device made it meanwhile.
            Err(e) if e.reason() == Some(Reason::FolderExists) => {
                *folders = self.folders().await?;
                Ok(folders
                    .iter()
                    .find(|f| f.parent_id == parent_id && f.name == name)
                    .map(|f| f.id))
            }
            Err(e) => Err(e),
        }
    }

    /// The folder of a device (created when `create`).
    async fn device_folder(&self, device: &str, create: bool) -> Result<Option<u64>, RpcError> {
        let mut folders = self.folders().await?;
        let Some(container) = self.child(&mut folders, None, CONTAINER, create).await? else {
            return Ok(None);
        };
        self.child(&mut folders, Some(container), device, create)
            .await
    }

    async fn props(&self, folder: u64) -> Result<Vec<pb::Prop>, RpcError> {
        Ok(self
            .exmdb
            .get_folder_props(pb::FolderRequest {
                dir: self.dir.to_string(),
                folder: Some(folder_id(folder)),
            })
            .await?
            .props)
    }

    async fn set(&self, folder: u64, set: Vec<(PropTag, Vec<u8>)>) -> Result<(), RpcError> {
        self.exmdb
            .set_folder_props(pb::SetFolderPropsRequest {
                dir: self.dir.to_string(),
                folder: Some(folder_id(folder)),
                set: set
                    .into_iter()
                    .map(|(t, v)| prop_to_pb(t, &PropValue::Binary(v)))
                    .collect(),
                remove: Vec::new(),
            })
            .await?;
        Ok(())
    }

    /// The device record, if the device is known.
    pub async fn device(&self, id: &str) -> Result<Option<Device>, RpcError> {
        let Some(f) = self.device_folder(id, false).await? else {
            return Ok(None);
        };
        let props = self.props(f).await?;
        Ok(binary(&props, DEVICE_TAG).and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Writes the device record (creating the device's folder).
    pub async fn save_device(&self, device: &Device) -> Result<(), RpcError> {
        let Some(f) = self.device_folder(&device.id, true).await? else {
            return Err(no_root());
        };
        let raw = serde_json::to_vec(device).unwrap_or_default();
        self.set(f, vec![(DEVICE_TAG, raw)]).await
    }

    /// Every device of the store.
    pub async fn list(&self) -> Result<Vec<Device>, RpcError> {
        let mut folders = self.folders().await?;
        let Some(container) = self.child(&mut folders, None, CONTAINER, false).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for f in folders.iter().filter(|f| f.parent_id == container) {
            let props = self.props(f.id).await?;
            if let Some(d) =
                binary(&props, DEVICE_TAG).and_then(|b| serde_json::from_slice(&b).ok())
            {
                out.push(d);
            }
        }
        out.sort_by(|a: &Device, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Forgets a device and all its state. False when it was not known.
    pub async fn remove(&self, id: &str) -> Result<bool, RpcError> {
        let Some(f) = self.device_folder(id, false).await? else {
            return Ok(false);
        };
        self.exmdb
            .delete_folder(pb::DeleteFolderRequest {
                dir: self.dir.to_string(),
                folder: Some(folder_id(f)),
                hard: true,
            })
            .await?;
        Ok(true)
    }

    /// The hierarchy the device holds.
    pub async fn hierarchy(&self, device: &str) -> Result<Option<Hierarchy>, RpcError> {
        let Some(f) = self.device_folder(device, false).await? else {
            return Ok(None);
        };
        let props = self.props(f).await?;
        Ok(binary(&props, HIERARCHY_TAG).and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Writes the hierarchy state.
    pub async fn save_hierarchy(&self, device: &str, h: &Hierarchy) -> Result<(), RpcError> {
        let Some(f) = self.device_folder(device, true).await? else {
            return Err(no_root());
        };
        self.set(
            f,
            vec![(HIERARCHY_TAG, serde_json::to_vec(h).unwrap_or_default())],
        )
        .await
    }

    async fn collection_folder(
        &self,
        device: &str,
        collection: &str,
        create: bool,
    ) -> Result<Option<u64>, RpcError> {
        let mut folders = self.folders().await?;
        let Some(container) = self.child(&mut folders, None, CONTAINER, create).await? else {
            return Ok(None);
        };
        let Some(dev) = self
            .child(&mut folders, Some(container), device, create)
            .await?
        else {
            return Ok(None);
        };
        self.child(&mut folders, Some(dev), collection, create)
            .await
    }

    /// A collection's current and previous state.
    pub async fn collection(
        &self,
        device: &str,
        collection: &str,
    ) -> Result<(Option<CollectionState>, Option<CollectionState>), RpcError> {
        let Some(f) = self.collection_folder(device, collection, false).await? else {
            return Ok((None, None));
        };
        let props = match self.props(f).await {
            Ok(p) => p,
            Err(e) if is_missing(&e) => return Ok((None, None)),
            Err(e) => return Err(e),
        };
        let get = |t| binary(&props, t).and_then(|b| CollectionState::decode(&b));
        Ok((get(STATE_TAG), get(PREVIOUS_TAG)))
    }

    /// Every folder of the store, each with the collection state it holds
    /// (one RPC; what Ping reads on every wake-up).
    pub async fn folders_with_states(&self) -> Result<Vec<pb::Folder>, RpcError> {
        Ok(self
            .exmdb
            .list_folders(pb::ListFoldersRequest {
                dir: self.dir.to_string(),
                prop_tags: vec![STATE_TAG.0],
            })
            .await?
            .folders)
    }

    /// The current collection states of `device`, by CollectionId, from a
    /// listing of [`Devices::folders_with_states`].
    pub fn states_in(
        folders: &[pb::Folder],
        device: &str,
    ) -> std::collections::HashMap<String, CollectionState> {
        let root = folders.iter().find(|f| f.role == "root").map(|f| f.id);
        let container = folders
            .iter()
            .find(|f| Some(f.parent_id) == root && f.name == CONTAINER)
            .map(|f| f.id);
        let dev = folders
            .iter()
            .find(|f| Some(f.parent_id) == container && f.name == device)
            .map(|f| f.id);
        folders
            .iter()
            .filter(|f| dev.is_some() && Some(f.parent_id) == dev)
            .filter_map(|f| {
                let state =
                    binary(&f.props, STATE_TAG).and_then(|b| CollectionState::decode(&b))?;
                Some((f.name.clone(), state))
            })
            .collect()
    }

    /// Writes a collection's new state, keeping the one it came from (the
    /// client may repeat a request whose answer it lost).
    pub async fn save_collection(
        &self,
        device: &str,
        collection: &str,
        current: &CollectionState,
        previous: Option<&CollectionState>,
    ) -> Result<(), RpcError> {
        let Some(f) = self.collection_folder(device, collection, true).await? else {
            return Err(no_root());
        };
        let mut set = vec![(STATE_TAG, current.encode())];
        set.push((
            PREVIOUS_TAG,
            previous.map(CollectionState::encode).unwrap_or_default(),
        ));
        self.set(f, set).await
    }
}

fn no_root() -> RpcError {
    RpcError::Input {
        service: "exmdb",
        message: "the store has no root folder".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(
        id: u64,
        parent: u64,
        name: &str,
        role: &str,
        state: Option<&CollectionState>,
    ) -> pb::Folder {
        pb::Folder {
            id,
            parent_id: parent,
            name: name.into(),
            role: role.into(),
            props: state
                .map(|s| vec![prop_to_pb(STATE_TAG, &PropValue::Binary(s.encode()))])
                .unwrap_or_default(),
            ..pb::Folder::default()
        }
    }

    #[test]
    fn states_are_found_for_the_device_only() {
        let mine = CollectionState {
            generation: 1,
            n: 2,
            cursor: 3,
            known: Default::default(),
        };
        let theirs = CollectionState {
            n: 9,
            ..mine.clone()
        };
        let folders = vec![
            folder(1, 0, "Root", "root", None),
            folder(9, 1, "Top", "ipm_subtree", None),
            folder(13, 9, "13", "", None),
            folder(0x100, 1, CONTAINER, "", None),
            folder(0x101, 0x100, "phone", "", None),
            folder(0x102, 0x101, "13", "", Some(&mine)),
            folder(0x103, 0x100, "tablet", "", None),
            folder(0x104, 0x103, "13", "", Some(&theirs)),
            folder(0x105, 0x101, "15", "", None),
        ];
        let states = Devices::states_in(&folders, "phone");
        assert_eq!(states.len(), 1);
        assert_eq!(states.get("13"), Some(&mine));
        assert_eq!(
            Devices::states_in(&folders, "tablet").get("13"),
            Some(&theirs)
        );
        assert!(Devices::states_in(&folders, "unknown").is_empty());
    }
}
