use scopegate::route;

#[route(get, "/health", public)]
struct Health;

fn main() {
    let _ = Health;
}
