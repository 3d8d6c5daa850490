fn main() -> std::process::ExitCode {
    yui::cli::run()
}
