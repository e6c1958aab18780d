fn main() -> std::process::ExitCode {
    groxide_runtime::main(
        groxide_runtime::DaemonSpec {
            binary: "groxide-http",
            name: "http",
            about: "groxide-http: Autodiscover, autoconfig and (as they arrive) CalDAV/CardDAV, EWS and ActiveSync over HTTP",
            file: groxide_config::Http,
            check: groxide_http::check_config,
        },
        groxide_http::run,
    )
}
