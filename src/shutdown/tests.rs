use super::*;

const GRACE: Duration = Duration::from_secs(30);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn waits_while_requests_run_within_the_grace_period() {
    assert_eq!(drain_step(2, ms(500), GRACE), DrainStep::Wait);
    assert_eq!(drain_step(1, ms(29_999), GRACE), DrainStep::Wait);
}

#[test]
fn exits_once_nothing_is_in_flight_after_the_settle_time() {
    assert_eq!(drain_step(0, ms(99), GRACE), DrainStep::Wait);
    assert_eq!(drain_step(0, ms(100), GRACE), DrainStep::Drained);
    assert_eq!(drain_step(0, ms(2_000), GRACE), DrainStep::Drained);
}

#[test]
fn cuts_what_still_runs_when_the_grace_period_is_over() {
    assert_eq!(
        drain_step(3, GRACE, GRACE),
        DrainStep::GraceOver { in_flight: 3 }
    );
}

#[test]
fn a_zero_grace_period_exits_at_once() {
    assert_eq!(drain_step(0, ms(0), Duration::ZERO), DrainStep::Drained);
    assert_eq!(
        drain_step(1, ms(0), Duration::ZERO),
        DrainStep::GraceOver { in_flight: 1 }
    );
}

#[test]
fn pingora_waits_longer_than_the_gateway() {
    assert_eq!(pingora_grace_seconds(Duration::from_secs(30)), 31);
    assert_eq!(pingora_grace_seconds(Duration::from_millis(1_500)), 3);
    assert_eq!(pingora_grace_seconds(Duration::ZERO), 1);
}

#[test]
fn the_guard_counts_a_request_for_its_lifetime() {
    let gauge = IntGauge::new("t_in_flight", "test").unwrap();
    let in_flight = InFlight::new(gauge.clone());
    let a = in_flight.enter();
    let b = in_flight.enter();
    assert_eq!((in_flight.count(), gauge.get()), (2, 2));
    drop(a);
    assert_eq!(in_flight.count(), 1);
    drop(b);
    assert_eq!(in_flight.count(), 0);
}
