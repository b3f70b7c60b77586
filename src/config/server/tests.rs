//! When two listener addresses would collide.

use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn listeners_collide_on_one_port_of_one_address_or_of_every_address() {
    let same = [
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("0.0.0.0:8080", "127.0.0.1:8080"),
        ("127.0.0.1:8080", "0.0.0.0:8080"),
        ("[::]:8080", "0.0.0.0:8080"),
        ("[::1]:9901", "[::1]:9901"),
    ];
    for (a, b) in same {
        assert!(same_socket(addr(a), addr(b)), "{a} {b}");
    }
    let apart = [
        ("127.0.0.1:8080", "127.0.0.1:9901"),
        ("127.0.0.1:8080", "10.0.0.1:8080"),
        ("0.0.0.0:8080", "0.0.0.0:9901"),
    ];
    for (a, b) in apart {
        assert!(!same_socket(addr(a), addr(b)), "{a} {b}");
    }
}
