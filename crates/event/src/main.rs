fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-event",
            name: "event",
            about: "groxide-event: change notifications",
            file: groxide_config::Event,
            check: groxide_runtime::no_checks,
        },
        groxide_event::run,
    )
}
