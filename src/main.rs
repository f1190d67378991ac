//! Thin entry point: everything lives in the library.
fn main() -> std::process::ExitCode {
    casegate::cli::main()
}
