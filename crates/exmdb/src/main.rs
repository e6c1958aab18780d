fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-exmdb",
            name: "exmdb",
            about: "groxide-exmdb: the mailbox store",
            schema: &groxide_config::schema::EXMDB,
            check: groxide_runtime::no_checks,
        },
        groxide_exmdb::run,
    )
}
