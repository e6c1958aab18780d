fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-zcore",
            name: "zcore",
            about: "groxide-zcore: the session API for web and sync clients",
            file: groxide_config::Zcore,
            check: groxide_runtime::no_checks,
        },
        groxide_zcore::run,
    )
}
