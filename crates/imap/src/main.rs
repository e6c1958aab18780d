fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-imap",
            name: "imap",
            about: "groxide-imap: the IMAP4rev1/IMAP4rev2 server",
            file: groxide_config::Imap,
            check: groxide_imap::check_config,
        },
        groxide_imap::run,
    )
}
