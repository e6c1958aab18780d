fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-timer",
            name: "timer",
            about: "groxide-timer: persistent scheduled jobs",
            file: groxide_config::Timer,
            check: groxide_timer::limits::check_config,
        },
        groxide_timer::run,
    )
}
