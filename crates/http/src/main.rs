fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-http",
            name: "http",
            about: "groxide-http: Autodiscover, EWS, CalDAV/CardDAV and ActiveSync over HTTP",
            file: groxide_config::Http,
            check: groxide_runtime::no_checks,
        },
        groxide_http::run,
    )
}
