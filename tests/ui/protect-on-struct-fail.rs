use scopegate::protect;

#[protect(scopes = ["ti:self"])]
struct Heartbeat;

fn main() {}
