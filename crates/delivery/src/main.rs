fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-delivery",
            name: "delivery",
            about: "groxide-delivery: LMTP final delivery into mailbox stores",
            file: groxide_config::Delivery,
            check: groxide_delivery::check_config,
        },
        groxide_delivery::run,
    )
}
