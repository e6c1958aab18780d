fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-pop3",
            name: "pop3",
            about: "groxide-pop3: the POP3 server",
            file: groxide_config::Pop3,
            check: groxide_pop3::check_config,
        },
        groxide_pop3::run,
    )
}
