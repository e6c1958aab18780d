//! GetUserOofSettings and SetUserOofSettings: the caller's automatic
//! replies, kept in the store (groxide-rpc's `oof`, where
//! groxide-delivery reads them). Both answer in a bare `ResponseMessage`
//! (not `ResponseMessages`); the settings follow it as `t:OofSettings`.

use crate::items::{date_time, parse_date_time};
use crate::mailbox::Mailbox;
use crate::notifications::unix_now;
use crate::response::{EwsError, ResponseCode, write_error};
use crate::xml::{Element, EwsElement, XmlWriter};
use groxide_rpc::oof::{ExternalAudience, OofSettings, OofState};

/// The `t:Mailbox/t:Address` of the request, which must be the caller.
fn check_mailbox(mb: &Mailbox<'_>, op: &Element) -> Result<(), EwsError> {
    let address = op
        .t("Mailbox")
        .and_then(|m| m.t_text("Address"))
        .ok_or_else(|| EwsError::invalid("Mailbox/Address is missing"))?;
    if address.eq_ignore_ascii_case(&mb.user) {
        Ok(())
    } else {
        Err(EwsError::new(
            ResponseCode::ErrorAccessDenied,
            "only the caller's own automatic replies can be read or set",
        ))
    }
}

fn store_error(e: &groxide_rpc::RpcError) -> EwsError {
    EwsError::from_rpc(e, ResponseCode::ErrorFolderNotFound)
}

fn answer(w: &mut XmlWriter, op: &str, r: &Result<(), EwsError>) {
    let message = "m:ResponseMessage";
    match r {
        Ok(()) => {
            w.open(message, &[("ResponseClass", "Success")])
                .leaf("m:ResponseCode", ResponseCode::NoError.as_str())
                .close();
        }
        Err(e) => {
            tracing::debug!(op, error = %e, "EWS OOF request refused");
            write_error(w, message, e);
        }
    }
}

pub(crate) async fn get_user_oof_settings(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let r = async {
        check_mailbox(mb, op)?;
        let (settings, _) = groxide_rpc::oof::read(mb.exmdb(), &mb.dir)
            .await
            .map_err(|e| store_error(&e))?;
        Ok(settings)
    }
    .await;
    w.open("m:GetUserOofSettingsResponse", &[]);
    answer(
        w,
        "GetUserOofSettings",
        &r.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if let Ok(s) = &r {
        let state = match s.state {
            OofState::Disabled => "Disabled",
            OofState::Enabled => "Enabled",
            OofState::Scheduled => "Scheduled",
        };
        let audience = match s.external_audience {
            ExternalAudience::None => "None",
            ExternalAudience::Known => "Known",
            ExternalAudience::All => "All",
        };
        // Without a window, today (as Exchange answers).
        let (start, end) = if s.start < s.end {
            (s.start, s.end)
        } else {
            let day = unix_now() - unix_now().rem_euclid(86_400);
            (day, day + 86_400)
        };
        w.open("t:OofSettings", &[])
            .leaf("t:OofState", state)
            .leaf("t:ExternalAudience", audience)
            .open("t:Duration", &[])
            .leaf("t:StartTime", &date_time(start))
            .leaf("t:EndTime", &date_time(end))
            .close()
            .open("t:InternalReply", &[])
            .leaf("t:Message", &s.internal_reply)
            .close()
            .open("t:ExternalReply", &[])
            .leaf("t:Message", &s.external_reply)
            .close()
            .close()
            .leaf("m:AllowExternalOof", "All");
    }
    w.close();
}

/// The settings a `t:UserOofSettings` element gives.
fn settings_of(e: &Element) -> Result<OofSettings, EwsError> {
    let state = match e.t_text("OofState") {
        Some("Disabled") => OofState::Disabled,
        Some("Enabled") => OofState::Enabled,
        Some("Scheduled") => OofState::Scheduled,
        Some(other) => return Err(EwsError::invalid(format!("{other} is not an OofState"))),
        None => return Err(EwsError::invalid("OofState is missing")),
    };
    let external_audience = match e.t_text("ExternalAudience") {
        Some("None") => ExternalAudience::None,
        Some("Known") => ExternalAudience::Known,
        Some("All") | None => ExternalAudience::All,
        Some(other) => {
            return Err(EwsError::invalid(format!(
                "{other} is not an ExternalAudience"
            )));
        }
    };
    let time = |name: &str| -> Result<i64, EwsError> {
        match e.t("Duration").and_then(|d| d.t_text(name)) {
            Some(t) => parse_date_time(t)
                .ok_or_else(|| EwsError::invalid(format!("{name} is not a dateTime"))),
            None => Ok(0),
        }
    };
    let (start, end) = (time("StartTime")?, time("EndTime")?);
    if state == OofState::Scheduled && start >= end {
        return Err(EwsError::new(
            ResponseCode::ErrorInvalidRequest,
            "a scheduled reply needs a Duration whose StartTime is before its EndTime",
        ));
    }
    let reply = |name: &str| {
        e.t(name)
            .and_then(|r| r.t("Message"))
            .map(|m| m.text.clone())
            .unwrap_or_default()
    };
    Ok(OofSettings {
        state,
        external_audience,
        start,
        end,
        internal_reply: reply("InternalReply"),
        external_reply: reply("ExternalReply"),
        period: unix_now(),
    })
}

pub(crate) async fn set_user_oof_settings(mb: &mut Mailbox<'_>, op: &Element, w: &mut XmlWriter) {
    let r = async {
        check_mailbox(mb, op)?;
        let settings = settings_of(
            op.t("UserOofSettings")
                .ok_or_else(|| EwsError::invalid("UserOofSettings is missing"))?,
        )?;
        groxide_rpc::oof::write_settings(mb.exmdb(), &mb.dir, &settings)
            .await
            .map_err(|e| store_error(&e))
    }
    .await;
    w.open("m:SetUserOofSettingsResponse", &[]);
    answer(w, "SetUserOofSettings", &r);
    w.close();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{NS_TYPES, parse};

    fn settings(inner: &str) -> Result<OofSettings, EwsError> {
        let doc = format!("<t:UserOofSettings xmlns:t=\"{NS_TYPES}\">{inner}</t:UserOofSettings>");
        settings_of(&parse(doc.as_bytes()).unwrap())
    }

    #[test]
    fn user_oof_settings_are_read_from_the_request_and_bad_ones_refused() {
        let s = settings(
            "<t:OofState>Scheduled</t:OofState><t:ExternalAudience>Known</t:ExternalAudience>\
             <t:Duration><t:StartTime>2030-01-01T00:00:00Z</t:StartTime><t:EndTime>2030-01-02T00:00:00Z</t:EndTime></t:Duration>\
             <t:InternalReply><t:Message>in</t:Message></t:InternalReply><t:ExternalReply><t:Message>out</t:Message></t:ExternalReply>",
        )
        .unwrap();
        assert_eq!(s.state, OofState::Scheduled);
        assert_eq!(s.external_audience, ExternalAudience::Known);
        assert_eq!((s.start, s.end), (1_893_456_000, 1_893_542_400));
        assert_eq!(
            (s.internal_reply.as_str(), s.external_reply.as_str()),
            ("in", "out")
        );
        for bad in [
            "",
            "<t:OofState>Sometimes</t:OofState>",
            "<t:OofState>Scheduled</t:OofState>",
            "<t:OofState>Enabled</t:OofState><t:ExternalAudience>Friends</t:ExternalAudience>",
            "<t:OofState>Enabled</t:OofState><t:Duration><t:StartTime>soon</t:StartTime></t:Duration>",
        ] {
            assert!(settings(bad).is_err(), "{bad}");
        }
    }
}
