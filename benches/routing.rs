//! The per-request cost of choosing a route: `normalize_path` on every request, then a lookup
//! among 100 routes (a quarter of them bound to a host), which is what a large deployment has.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tokengate::config::RouteConfig;
use tokengate::path::normalize_path;
use tokengate::routing::Router;

fn routes() -> Vec<RouteConfig> {
    let mut routes = Vec::new();
    for i in 0..100 {
        let path_prefix = match i % 4 {
            0 => format!("/api/service{i}"),
            1 => format!("/api/service{}/v{i}", i - 1),
            2 => format!("/static/app{i}"),
            _ => format!("/api/service{}", i - 3),
        };
        let route = RouteConfig::new(&format!("route{i}"), &path_prefix, "http://127.0.0.1:9000")
            .expect("a valid route");
        // Every fourth route repeats a prefix, bound to a host.
        let host = (i % 4 == 3).then(|| format!("tenant{i}.example.com"));
        routes.push(RouteConfig { host, ..route });
    }
    routes
}

fn bench(c: &mut Criterion) {
    let router = Router::new(routes());
    c.bench_function("route/100 routes, deep path, no host", |b| {
        b.iter(|| {
            router.route(
                black_box(None),
                black_box("/api/service48/v49/orders/123/items"),
            )
        })
    });
    c.bench_function("route/100 routes, host route hit", |b| {
        b.iter(|| {
            router.route(
                black_box(Some("Tenant51.example.com:8443")),
                black_box("/api/service48/orders/123"),
            )
        })
    });
    c.bench_function("route/100 routes, miss", |b| {
        b.iter(|| {
            router.route(
                black_box(Some("example.com")),
                black_box("/nothing/here/at/all"),
            )
        })
    });
    c.bench_function("normalize_path/plain", |b| {
        b.iter(|| normalize_path(black_box("/api/service48/v49/orders/123/items")))
    });
    c.bench_function("normalize_path/encoded", |b| {
        b.iter(|| {
            normalize_path(black_box(
                "/api/service48/%7Ev49/orders/../%2e/caf%c3%a9/items",
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
