//! The standard folders' display names in the owner's language, and the
//! step that gives an existing store the standard folders it lacks.
//!
//! Names follow what Outlook shows in each language (gromox keeps the same
//! tables); a language without a table, or a folder without a translation,
//! gets the English name. Only display names are localised: roles, ids and
//! container classes are the same in every store.

use crate::error::Result;
use crate::folders::{self, FolderRole, STANDARD_PRIVATE, STANDARD_PUBLIC, StoreKind};
use crate::ids::FolderId;
use crate::limits::StoreLimits;
use crate::tx::WriteCtx;
use rusqlite::{Connection, OptionalExtension, params};

/// The languages with their own folder names (ISO 639-1).
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "nl", "pt", "pl", "ja", "zh"];

/// The ISO 639-1 part of a language tag: `de_DE.UTF-8`, `de-AT`, `DE` → `de`.
pub fn language_of(tag: &str) -> String {
    tag.split(['_', '-', '.', '@'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `tag` names a language with its own folder names ("" = English).
pub fn is_known_language(tag: &str) -> bool {
    let l = language_of(tag);
    l.is_empty() || LANGUAGES.contains(&l.as_str())
}

/// Columns: en, de, fr, es, it, nl, pt, pl, ja, zh.
type Names = [&'static str; 10];

fn table(role: FolderRole) -> Option<&'static Names> {
    use FolderRole as R;
    Some(match role {
        R::Inbox => &[
            "Inbox",
            "Posteingang",
            "Boîte de réception",
            "Bandeja de entrada",
            "Posta in arrivo",
            "Postvak IN",
            "Caixa de Entrada",
            "Skrzynka odbiorcza",
            "受信トレイ",
            "收件箱",
        ],
        R::Sent => &[
            "Sent Items",
            "Gesendete Elemente",
            "Éléments envoyés",
            "Elementos enviados",
            "Posta inviata",
            "Verzonden items",
            "Itens Enviados",
            "Elementy wysłane",
            "送信済みアイテム",
            "已发送邮件",
        ],
        R::Trash => &[
            "Deleted Items",
            "Gelöschte Elemente",
            "Éléments supprimés",
            "Elementos eliminados",
            "Posta eliminata",
            "Verwijderde items",
            "Itens Excluídos",
            "Elementy usunięte",
            "削除済みアイテム",
            "已删除邮件",
        ],
        R::Outbox => &[
            "Outbox",
            "Postausgang",
            "Boîte d'envoi",
            "Bandeja de salida",
            "Posta in uscita",
            "Postvak UIT",
            "Caixa de Saída",
            "Skrzynka nadawcza",
            "送信トレイ",
            "发件箱",
        ],
        R::Drafts => &[
            "Drafts",
            "Entwürfe",
            "Brouillons",
            "Borradores",
            "Bozze",
            "Concepten",
            "Rascunhos",
            "Wersje robocze",
            "下書き",
            "草稿",
        ],
        R::Calendar => &[
            "Calendar",
            "Kalender",
            "Calendrier",
            "Calendario",
            "Calendario",
            "Agenda",
            "Calendário",
            "Kalendarz",
            "予定表",
            "日历",
        ],
        R::Journal => &[
            "Journal", "Journal", "Journal", "Diario", "Diario", "Logboek", "Diário", "Dziennik",
            "履歴", "日记",
        ],
        R::Notes => &[
            "Notes",
            "Notizen",
            "Notes",
            "Notas",
            "Note",
            "Notities",
            "Anotações",
            "Notatki",
            "メモ",
            "便笺",
        ],
        R::Tasks => &[
            "Tasks",
            "Aufgaben",
            "Tâches",
            "Tareas",
            "Attività",
            "Taken",
            "Tarefas",
            "Zadania",
            "タスク",
            "任务",
        ],
        R::Contacts => &[
            "Contacts",
            "Kontakte",
            "Contacts",
            "Contactos",
            "Contatti",
            "Contactpersonen",
            "Contatos",
            "Kontakty",
            "連絡先",
            "联系人",
        ],
        R::Junk => &[
            "Junk Email",
            "Junk-E-Mail",
            "Courrier indésirable",
            "Correo no deseado",
            "Posta indesiderata",
            "Ongewenste e-mail",
            "Lixo Eletrônico",
            "Wiadomości-śmieci",
            "迷惑メール",
            "垃圾电子邮件",
        ],
        R::SyncIssues => &[
            "Sync Issues",
            "Synchronisierungsprobleme",
            "Problèmes de synchronisation",
            "Problemas de sincronización",
            "Problemi di sincronizzazione",
            "Synchronisatieproblemen",
            "Problemas de Sincronização",
            "Problemy z synchronizacją",
            "同期の失敗",
            "同步问题",
        ],
        R::Conflicts => &[
            "Conflicts",
            "Konflikte",
            "Conflits",
            "Conflictos",
            "Conflitti",
            "Conflicten",
            "Conflitos",
            "Konflikty",
            "競合",
            "冲突",
        ],
        R::LocalFailures => &[
            "Local Failures",
            "Lokale Fehler",
            "Échecs locaux",
            "Errores locales",
            "Errori locali",
            "Lokale fouten",
            "Falhas Locais",
            "Błędy lokalne",
            "ローカル エラー",
            "本地故障",
        ],
        R::ServerFailures => &[
            "Server Failures",
            "Serverfehler",
            "Échecs du serveur",
            "Errores del servidor",
            "Errori server",
            "Serverfouten",
            "Falhas do Servidor",
            "Błędy serwera",
            "サーバー エラー",
            "服务器故障",
        ],
        _ => return None,
    })
}

/// The display name of a standard folder in `lang` (a language tag; unknown
/// languages and untranslated folders get `english`).
pub fn localized_name(role: FolderRole, lang: &str, english: &'static str) -> &'static str {
    let l = language_of(lang);
    match (table(role), LANGUAGES.iter().position(|x| *x == l.as_str())) {
        (Some(names), Some(i)) => names[i],
        _ => english,
    }
}

/// Adds the standard folders a store lacks (a store created before they
/// existed): each with its fixed id when free, its localised name — with a
/// number appended when a user folder of that name is in the way, which is
/// left as it is — and its container class. A database without a store row
/// (one being created) is left alone.
pub(crate) fn add_missing_standard(conn: &Connection) -> Result<usize> {
    let row: Option<(i64, String, i64)> = conn
        .query_row(
            "SELECT store_type, lang, strftime('%s','now') FROM store_info WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?.parse().unwrap_or(0),
                ))
            },
        )
        .optional()?;
    let Some((kind, lang, now)) = row else {
        return Ok(0);
    };
    let standard = match StoreKind::from_code(kind) {
        Some(StoreKind::Public) => STANDARD_PUBLIC,
        _ => STANDARD_PRIVATE,
    };
    let mut ctx = WriteCtx {
        conn,
        limits: StoreLimits::default(),
        now,
        events: Vec::new(),
        unlink: Vec::new(),
    };
    let mut added = 0;
    for f in standard {
        if role_folder(conn, f.role)?.is_some() {
            continue;
        }
        let parent = match standard.iter().find(|p| p.id == f.parent) {
            Some(p) => match role_folder(conn, p.role)? {
                Some(id) => Some(id),
                None => continue,
            },
            None => None,
        };
        let id_taken: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM folders WHERE folder_id = ?1)",
            [f.id as i64],
            |r| r.get(0),
        )?;
        let id = if id_taken {
            let id: i64 = conn.query_row(
                "UPDATE store_info SET next_folder_id = next_folder_id + 1 WHERE id = 1
                 RETURNING next_folder_id - 1",
                [],
                |r| r.get(0),
            )?;
            FolderId(id as u64)
        } else {
            FolderId(f.id)
        };
        let base = localized_name(f.role, &lang, f.name);
        let mut name = base.to_string();
        if let Some(p) = parent {
            let mut n = 1;
            while folders::check_sibling_free(conn, p, &name, None).is_err() {
                n += 1;
                name = format!("{base} ({n})");
            }
        }
        folders::insert_row(&mut ctx, id, parent, &name, f.class, Some(f.role), f.hidden)?;
        tracing::info!(folder = %name, role = f.role.as_str(), "standard folder added to an existing store");
        added += 1;
    }
    Ok(added)
}

fn role_folder(conn: &Connection, role: FolderRole) -> Result<Option<FolderId>> {
    Ok(conn
        .query_row(
            "SELECT folder_id FROM folders WHERE role = ?1 AND deleted_at IS NULL",
            params![role.as_str()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|i| FolderId(i as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_reduce_to_their_language() {
        assert_eq!(language_of("de_DE.UTF-8"), "de");
        assert_eq!(language_of("pt-BR"), "pt");
        assert_eq!(language_of("ZH"), "zh");
        assert!(is_known_language(""));
        assert!(is_known_language("ja_JP"));
        assert!(!is_known_language("tlh"));
    }

    #[test]
    fn every_language_names_the_groupware_folders_and_unknown_ones_fall_back() {
        for role in [
            FolderRole::Calendar,
            FolderRole::Contacts,
            FolderRole::Tasks,
            FolderRole::Notes,
            FolderRole::Journal,
            FolderRole::Inbox,
        ] {
            let en = localized_name(role, "en", "x");
            assert_ne!(en, "x");
            for l in LANGUAGES {
                assert!(!localized_name(role, l, "x").is_empty());
            }
            assert_eq!(localized_name(role, "tlh", "fallback"), "fallback");
        }
        assert_eq!(
            localized_name(FolderRole::Calendar, "de_DE", "Calendar"),
            "Kalender"
        );
        assert_eq!(
            localized_name(FolderRole::Contacts, "fr", "Contacts"),
            "Contacts"
        );
        assert_eq!(
            localized_name(FolderRole::Calendar, "ja", "Calendar"),
            "予定表"
        );
        assert_eq!(
            localized_name(FolderRole::Root, "de", "Root Container"),
            "Root Container"
        );
    }
}
