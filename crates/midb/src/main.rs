fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-midb",
            name: "midb",
            about: "groxide-midb: the IMAP/POP3 view of mailbox stores",
            file: groxide_config::Midb,
            check: groxide_runtime::no_checks,
        },
        groxide_midb::run,
    )
}
