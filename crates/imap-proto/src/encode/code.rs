//! Writing response codes.

use crate::num::{write_u32, write_u64};
use crate::response::{PermanentFlag, ResponseCode};
use crate::sequence::write_number_set;

use super::string::{write_astring, write_text};

/// Writes `[CODE args]`.
pub(crate) fn write_code(out: &mut Vec<u8>, code: &ResponseCode) {
    out.push(b'[');
    let simple: &[u8] = match code {
        ResponseCode::Alert => b"ALERT",
        ResponseCode::Parse => b"PARSE",
        ResponseCode::ReadOnly => b"READ-ONLY",
        ResponseCode::ReadWrite => b"READ-WRITE",
        ResponseCode::TryCreate => b"TRYCREATE",
        ResponseCode::UidNotSticky => b"UIDNOTSTICKY",
        ResponseCode::NoModSeq => b"NOMODSEQ",
        ResponseCode::Closed => b"CLOSED",
        ResponseCode::AlreadyExists => b"ALREADYEXISTS",
        ResponseCode::NonExistent => b"NONEXISTENT",
        ResponseCode::AuthenticationFailed => b"AUTHENTICATIONFAILED",
        ResponseCode::AuthorizationFailed => b"AUTHORIZATIONFAILED",
        ResponseCode::Unavailable => b"UNAVAILABLE",
        ResponseCode::ServerBug => b"SERVERBUG",
        ResponseCode::Cannot => b"CANNOT",
        ResponseCode::Limit => b"LIMIT",
        ResponseCode::OverQuota => b"OVERQUOTA",
        ResponseCode::InUse => b"INUSE",
        ResponseCode::ExpungeIssued => b"EXPUNGEISSUED",
        ResponseCode::TooBig => b"TOOBIG",
        ResponseCode::UnknownCte => b"UNKNOWN-CTE",
        ResponseCode::CompressionActive => b"COMPRESSIONACTIVE",
        ResponseCode::ContactAdmin => b"CONTACTADMIN",
        ResponseCode::PrivacyRequired => b"PRIVACYREQUIRED",
        ResponseCode::NoPerm => b"NOPERM",
        ResponseCode::Expired => b"EXPIRED",
        ResponseCode::ClientBug => b"CLIENTBUG",
        ResponseCode::Corruption => b"CORRUPTION",
        ResponseCode::HasChildren => b"HASCHILDREN",
        ResponseCode::UseAttr => b"USEATTR",
        ResponseCode::NotSaved => b"NOTSAVED",
        ResponseCode::BadCharset(charsets) => {
            out.extend_from_slice(b"BADCHARSET");
            if !charsets.is_empty() {
                out.extend_from_slice(b" (");
                for (i, c) in charsets.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    write_astring(out, c.as_bytes(), false);
                }
                out.push(b')');
            }
            b""
        }
        ResponseCode::Capability(caps) => {
            out.extend_from_slice(b"CAPABILITY");
            for c in caps {
                out.push(b' ');
                out.extend_from_slice(c.as_bytes());
            }
            b""
        }
        ResponseCode::PermanentFlags(flags) => {
            out.extend_from_slice(b"PERMANENTFLAGS (");
            for (i, f) in flags.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                match f {
                    PermanentFlag::Flag(flag) => flag.write(out),
                    PermanentFlag::AnyKeyword => out.extend_from_slice(b"\\*"),
                }
            }
            out.push(b')');
            b""
        }
        ResponseCode::UidNext(n) => number_code(out, b"UIDNEXT", u64::from(*n)),
        ResponseCode::UidValidity(n) => number_code(out, b"UIDVALIDITY", u64::from(*n)),
        ResponseCode::Unseen(n) => number_code(out, b"UNSEEN", u64::from(*n)),
        ResponseCode::HighestModSeq(n) => number_code(out, b"HIGHESTMODSEQ", *n),
        ResponseCode::AppendUid { uid_validity, uids } => {
            out.extend_from_slice(b"APPENDUID ");
            write_u32(out, *uid_validity);
            out.push(b' ');
            write_number_set(out, uids);
            b""
        }
        ResponseCode::CopyUid {
            uid_validity,
            source,
            destination,
        } => {
            out.extend_from_slice(b"COPYUID ");
            write_u32(out, *uid_validity);
            out.push(b' ');
            write_number_set(out, source);
            out.push(b' ');
            write_number_set(out, destination);
            b""
        }
        ResponseCode::Modified(set) => {
            out.extend_from_slice(b"MODIFIED ");
            write_number_set(out, set);
            b""
        }
        ResponseCode::Other { name, text } => {
            out.extend(name.bytes().filter(|&b| crate::lexer::is_atom_char(b)));
            if let Some(text) = text {
                out.push(b' ');
                // `]` would end the code early.
                write_text(out, &text.replace(']', " "));
            }
            b""
        }
    };
    out.extend_from_slice(simple);
    out.push(b']');
}

fn number_code(out: &mut Vec<u8>, name: &[u8], n: u64) -> &'static [u8] {
    out.extend_from_slice(name);
    out.push(b' ');
    write_u64(out, n);
    b""
}
