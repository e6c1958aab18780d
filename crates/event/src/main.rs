fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-event",
            name: "event",
            about: "groxide-event: change notifications",
            schema: &groxide_config::schema::EVENT,
            check: groxide_runtime::no_checks,
        },
        groxide_event::run,
    )
}
