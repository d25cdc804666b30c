use scopegate::guard;

#[guard]
struct MayRead;

fn main() {}
