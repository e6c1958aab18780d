//! Provision ([MS-ASPROV]): the client asks for the policy and gets it with
//! a temporary key, then acknowledges it with that key and gets the final
//! key, which every later request carries. A remote wipe requested by the
//! administrator is handed out here and its acknowledgement recorded.

use crate::state::Device;
use crate::{Ctx, Failure, expect_root};
use groxide_wbxml::{Element, Provision, Settings};

const POLICY_TYPE: &str = "MS-EAS-Provisioning-WBXML";

/// The policy document: no device password or encryption demanded (the
/// account's password protects the mailbox), attachments allowed.
fn provision_doc() -> Element {
    let t = |tag: Provision, v: &str| Element::with_text(tag, v);
    Element::with_children(
        Provision::EASProvisionDoc,
        [
            t(Provision::DevicePasswordEnabled, "0"),
            t(Provision::AlphanumericDevicePasswordRequired, "0"),
            t(Provision::PasswordRecoveryEnabled, "0"),
            t(Provision::RequireStorageCardEncryption, "0"),
            t(Provision::AttachmentsEnabled, "1"),
            t(Provision::MinDevicePasswordLength, "1"),
            t(Provision::MaxInactivityTimeDeviceLock, "900"),
            t(Provision::MaxDevicePasswordFailedAttempts, "8"),
            t(Provision::AllowSimpleDevicePassword, "1"),
            t(Provision::DevicePasswordExpiration, "0"),
            t(Provision::DevicePasswordHistory, "0"),
            t(Provision::AllowStorageCard, "1"),
            t(Provision::AllowCamera, "1"),
            t(Provision::RequireDeviceEncryption, "0"),
            t(Provision::AllowHTMLEmail, "1"),
            t(Provision::AllowBrowser, "1"),
            t(Provision::AllowConsumerEmail, "1"),
        ],
    )
}

fn new_key() -> u32 {
    // 0 means "no key" on the wire.
    loop {
        let k = rand::random::<u32>() & 0x7FFF_FFFF;
        if k != 0 {
            return k;
        }
    }
}

fn apply_device_information(device: &mut Device, request: &Element) -> bool {
    let Some(set) = request
        .child(Settings::DeviceInformation)
        .and_then(|d| d.child(Settings::Set))
    else {
        return false;
    };
    let get = |t: Settings| {
        set.child_text(t)
            .map(|s| s.chars().take(200).collect::<String>())
    };
    if let Some(v) = get(Settings::Model) {
        device.model = v;
    }
    if let Some(v) = get(Settings::FriendlyName) {
        device.friendly_name = v;
    }
    if let Some(v) = get(Settings::OS) {
        device.os = v;
    }
    if let Some(v) = get(Settings::UserAgent) {
        device.user_agent = v;
    }
    true
}

fn status(v: u8) -> Element {
    Element::with_text(Provision::Status, v.to_string())
}

/// The Policy answer of the key exchange: a temporary key with the
/// policy document (no key sent), the final key (the temporary one sent
/// back), or Status 5 (any other key). `device` learns the keys.
fn policy_answer(device: &mut Device, acknowledged: Option<&str>) -> Vec<Element> {
    let mut answer = vec![Element::with_text(Provision::PolicyType, POLICY_TYPE)];
    match acknowledged {
        None => {
            device.pending_key = new_key();
            answer.push(status(1));
            answer.push(Element::with_text(
                Provision::PolicyKey,
                device.pending_key.to_string(),
            ));
            answer.push(Element::with_children(Provision::Data, [provision_doc()]));
        }
        Some(key) => {
            let key: u32 = key.trim().parse().unwrap_or(0);
            if key == 0 || key != device.pending_key {
                answer.push(status(5));
            } else {
                device.policy_key = new_key();
                device.pending_key = 0;
                answer.push(status(1));
                answer.push(Element::with_text(
                    Provision::PolicyKey,
                    device.policy_key.to_string(),
                ));
            }
        }
    }
    answer
}

pub(crate) async fn provision(
    ctx: &mut Ctx<'_>,
    document: Option<Element>,
) -> Result<Option<Element>, Failure> {
    let request = expect_root(document, Provision::Provision)?;
    let mut device = ctx.device.clone();
    let mut out = vec![status(1)];
    if apply_device_information(&mut device, &request) {
        out.push(Element::with_children(
            Settings::DeviceInformation,
            [Element::with_text(Settings::Status, "1")],
        ));
    }
    // The client confirms a wipe it carried out.
    if let Some(wipe) = request.child(Provision::RemoteWipe) {
        if device.wipe == "requested" && wipe.child_text(Provision::Status) == Some("1") {
            device.wipe = "acknowledged".into();
            device.policy_key = 0;
            ctx.devices().save_device(&device).await?;
        }
        out.push(Element::empty(Provision::RemoteWipe));
        return Ok(Some(Element::with_children(Provision::Provision, out)));
    }
    if device.wipe == "requested" {
        ctx.devices().save_device(&device).await?;
        out.push(Element::empty(Provision::RemoteWipe));
        return Ok(Some(Element::with_children(Provision::Provision, out)));
    }
    let Some(policy) = request
        .child(Provision::Policies)
        .and_then(|p| p.child(Provision::Policy))
    else {
        return Ok(Some(Element::with_children(
            Provision::Provision,
            [status(2)],
        )));
    };
    let policy_type = policy.child_text(Provision::PolicyType).unwrap_or("");
    if policy_type != POLICY_TYPE {
        out.push(Element::with_children(
            Provision::Policies,
            [Element::with_children(
                Provision::Policy,
                [
                    Element::with_text(Provision::PolicyType, policy_type),
                    status(3),
                ],
            )],
        ));
        return Ok(Some(Element::with_children(Provision::Provision, out)));
    }
    let answer = policy_answer(&mut device, policy.child_text(Provision::PolicyKey));
    ctx.devices().save_device(&device).await?;
    ctx.device = device;
    out.push(Element::with_children(
        Provision::Policies,
        [Element::with_children(Provision::Policy, answer)],
    ));
    Ok(Some(Element::with_children(Provision::Provision, out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_keys_are_exchanged_in_two_steps_and_a_wrong_key_starts_over() {
        let mut d = Device::default();
        let first = policy_answer(&mut d, None);
        assert!(first[1].is(Provision::Status));
        assert_eq!(first[1].content, groxide_wbxml::Content::Text("1".into()));
        assert!(first.iter().any(|e| e.is(Provision::Data)));
        let temp = d.pending_key;
        assert_ne!(temp, 0);
        assert_eq!(d.policy_key, 0);

        let wrong = policy_answer(&mut d, Some("12345"));
        assert!(
            wrong.iter().any(|e| e.is(Provision::Status)
                && e.content == groxide_wbxml::Content::Text("5".into()))
        );
        assert_eq!(d.policy_key, 0);

        let done = policy_answer(&mut d, Some(&temp.to_string()));
        let key = done
            .iter()
            .find(|e| e.is(Provision::PolicyKey))
            .and_then(|e| match &e.content {
                groxide_wbxml::Content::Text(t) => t.parse::<u32>().ok(),
                _ => None,
            })
            .unwrap();
        assert_eq!(key, d.policy_key);
        assert_ne!(key, temp);
        assert_eq!(d.pending_key, 0);
        // The temporary key cannot be used twice.
        let again = policy_answer(&mut d, Some(&temp.to_string()));
        assert!(!again.iter().any(|e| e.is(Provision::PolicyKey)));
    }
}
