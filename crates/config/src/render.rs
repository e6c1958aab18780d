//! The commented default config file of a schema (what etc/ in the repository holds).

use std::fmt::Write;

use crate::config::ENV_PREFIX;
use crate::schema;
use crate::spec::Schema;

/// Renders the default config file of `schema`: a header, then for every key
/// its doc line, its accepted values and `#key = default`, commented out so
/// the file as shipped changes nothing.
pub fn render_default_file(schema: &Schema) -> String {
    let mut out = String::new();
    let is_shared = schema.file == schema::SHARED.file;
    // Writing into a String cannot fail.
    let _ = writeln!(out, "# {} — read by {}.", schema.file, schema.about);
    out.push_str("#\n");
    out.push_str("# Every key is listed with its default value, commented out: a line\n");
    out.push_str("# changes nothing until its leading # is removed. Syntax: one\n");
    out.push_str("# `key = value` per line; lines starting with # are comments (there are\n");
    out.push_str("# no comments after a value); sizes like 64M, durations like 30s, 3min, 1d1h.\n");
    if is_shared {
        out.push_str("# A daemon's own file (imap.cfg, midb.cfg, …) may set these keys too and\n");
        out.push_str("# wins over this file; a daemon's keys may also be set here.\n");
    } else {
        out.push_str(
            "# Keys of groxide.cfg may be set here too; this file wins over groxide.cfg.\n",
        );
    }
    let _ = writeln!(
        out,
        "# An environment variable {ENV_PREFIX}<KEY IN UPPER CASE> wins over both files."
    );
    out.push_str("#\n");
    out.push_str("# Generated from the key catalogue in crates/config by `cargo xtask gen-etc`.\n");
    for spec in schema.keys {
        out.push('\n');
        let _ = writeln!(out, "# {}", spec.doc);
        let _ = writeln!(out, "# ({})", spec.kind.describe());
        if spec.default.is_empty() {
            let _ = writeln!(out, "#{} =", spec.name);
        } else {
            let _ = writeln!(out, "#{} = {}", spec.name, spec.default);
        }
    }
    out
}
