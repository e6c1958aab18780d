fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-exmdb",
            name: "exmdb",
            about: "groxide-exmdb: the mailbox store",
            file: groxide_config::Exmdb,
            check: groxide_runtime::no_checks,
        },
        groxide_exmdb::run,
    )
}
