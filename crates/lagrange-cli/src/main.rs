fn main() {
    eprintln!("error: the lagrange CLI is not built yet");
    std::process::exit(2);
}
