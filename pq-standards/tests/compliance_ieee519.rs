//! IEEE 519 limits at every class boundary and the clause 5 percentile assessments.

use pqe_standards::ieee519::{
    assess, ChannelInput, Edition, Ieee519Input, Ieee519Limits, OrderSeries, PeriodSeries,
    Statistic,
};
use pqe_standards::limits::{percentile, Verdict};

fn limits() -> Ieee519Limits {
    Ieee519Limits::embedded().unwrap()
}

/// Table 1: V ≤ 1 kV 5/8, 1 kV < V ≤ 69 kV 3/5, 69 kV < V ≤ 161 kV 1.5/2.5, above 1/1.5.
#[test]
fn voltage_classes_at_their_boundaries() {
    let l = limits();
    let v = |volts: f64| {
        let c = l.voltage_limits(volts).unwrap();
        (c.individual, c.thd)
    };
    assert_eq!(v(400.0), (5.0, 8.0));
    assert_eq!(v(1000.0), (5.0, 8.0));
    assert_eq!(v(1000.1), (3.0, 5.0));
    assert_eq!(v(69_000.0), (3.0, 5.0));
    assert_eq!(v(69_000.1), (1.5, 2.5));
    assert_eq!(v(161_000.0), (1.5, 2.5));
    assert_eq!(v(161_000.1), (1.0, 1.5));
    assert!(l.voltage_limits(0.0).is_none());
    assert!(l.voltage_limits(f64::NAN).is_none());
}

/// Table 2 rows: <20, 20<50, 50<100, 100<1000, >1000; the bands 3–11, 11–17, 17–23, 23–35,
/// 35–50 and TDD.
#[test]
fn current_classes_at_their_boundaries() {
    let l = limits();
    let row = |ratio: f64| {
        let c = l.current_limits(Edition::E2014, 480.0, ratio).unwrap();
        (c.bands.clone(), c.tdd)
    };
    assert_eq!(row(19.99), (vec![4.0, 2.0, 1.5, 0.6, 0.3], 5.0));
    assert_eq!(row(20.0), (vec![7.0, 3.5, 2.5, 1.0, 0.5], 8.0));
    assert_eq!(row(49.99), (vec![7.0, 3.5, 2.5, 1.0, 0.5], 8.0));
    assert_eq!(row(50.0), (vec![10.0, 4.5, 4.0, 1.5, 0.7], 12.0));
    assert_eq!(row(100.0), (vec![12.0, 5.5, 5.0, 2.0, 1.0], 15.0));
    assert_eq!(row(1000.0), (vec![12.0, 5.5, 5.0, 2.0, 1.0], 15.0));
    assert_eq!(row(1000.01), (vec![15.0, 7.0, 6.0, 2.5, 1.4], 20.0));
    // Table 3 above 69 kV, Table 4 above 161 kV.
    let t3 = l.current_limits(Edition::E2014, 115_000.0, 10.0).unwrap();
    assert!(t3.table.starts_with("Table 3"));
    assert_eq!(t3.tdd, 2.5);
    let t2 = l.current_limits(Edition::E2014, 69_000.0, 10.0).unwrap();
    assert!(t2.table.starts_with("Table 2"));
    let t4 = l.current_limits(Edition::E2014, 230_000.0, 25.0).unwrap();
    assert!(t4.table.starts_with("Table 4"));
    assert_eq!(t4.tdd, 2.5);
    assert!(l.current_limits(Edition::E2014, 480.0, 0.0).is_none());
}

/// Order bands 3 ≤ h < 11, 11 ≤ h < 17, …, 35 ≤ h ≤ 50; even orders by edition.
#[test]
fn order_limits_and_even_orders_per_edition() {
    let l = limits();
    let c14 = l.current_limits(Edition::E2014, 480.0, 10.0).unwrap();
    let c22 = l.current_limits(Edition::E2022, 480.0, 10.0).unwrap();
    assert_eq!(c14.order_limit(3), Some(4.0));
    assert_eq!(c14.order_limit(9), Some(4.0));
    assert_eq!(c14.order_limit(11), Some(2.0));
    assert_eq!(c14.order_limit(17), Some(1.5));
    assert_eq!(c14.order_limit(23), Some(0.6));
    assert_eq!(c14.order_limit(33), Some(0.6));
    assert_eq!(c14.order_limit(35), Some(0.3));
    assert_eq!(c14.order_limit(49), Some(0.3));
    assert_eq!(c14.order_limit(51), None);
    assert_eq!(c14.order_limit(1), None);
    // 2014: every even order at 25 % of its band's odd limit (order 2 takes band 3–11).
    assert_eq!(c14.order_limit(2), Some(1.0));
    assert_eq!(c14.order_limit(6), Some(1.0));
    assert_eq!(c14.order_limit(8), Some(1.0));
    assert_eq!(c14.order_limit(12), Some(0.5));
    assert_eq!(c14.order_limit(50), Some(0.075));
    // 2022: 50 % up to order 6, 100 % above.
    assert_eq!(c22.order_limit(2), Some(2.0));
    assert_eq!(c22.order_limit(6), Some(2.0));
    assert_eq!(c22.order_limit(8), Some(4.0));
    assert_eq!(c22.order_limit(12), Some(2.0));
    assert_eq!(c22.order_limit(50), Some(0.3));
    assert_eq!(c22.order_limit(5), Some(4.0));
}

#[test]
fn nearest_rank_definition() {
    // 100 values 1..=100: P95 = 95, P99 = 99; 10 values: P95 = rank ⌈9.5⌉ = 10.
    let v: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(percentile(&v, 95.0), Some(95.0));
    assert_eq!(percentile(&v, 99.0), Some(99.0));
    let w: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(percentile(&w, 95.0), Some(10.0));
}

const WEEK: f64 = 604_800.0;

/// Voltage on a 480 V bus: THD limit 8 %, individual 5 %. 20 10-min values, the 95th
/// percentile is rank 19.
#[test]
fn voltage_weekly_p95_and_daily_p99() {
    let t10: Vec<f64> = (0..20).map(|i| i as f64 * 600.0).collect();
    let mut thd: Vec<(f64, bool)> = (0..19).map(|_| (8.0, false)).collect();
    thd.push((20.0, false)); // only the top 5 %: P95 = 8.0 exactly at the limit
    let h5: Vec<(f64, bool)> = vec![(5.1, false); 20];
    // 3-s values over two days: day 0 fine, day 1 with 2 of 100 at 13 % (> 1.5 × 8 = 12).
    let t3: Vec<f64> = (0..200).map(|i| i as f64 * 864.0).collect();
    let thd3: Vec<(f64, bool)> = (0..200)
        .map(|i| {
            if i >= 198 {
                (13.0, false)
            } else {
                (4.0, false)
            }
        })
        .collect();
    let input = Ieee519Input {
        edition: Edition::E2014,
        bus_voltage: 480.0,
        observation_seconds: WEEK,
        voltage: vec![ChannelInput {
            name: "U_A",
            ten_minute: PeriodSeries {
                t: &t10,
                distortion: &thd,
                orders: vec![OrderSeries {
                    order: 5,
                    values: &h5,
                }],
            },
            three_second: PeriodSeries {
                t: &t3,
                distortion: &thd3,
                orders: vec![],
            },
        }],
        ..Default::default()
    };
    let a = assess(&input).unwrap();
    let get = |q: &str, s: Statistic| {
        a.checks
            .iter()
            .find(|c| c.quantity == q && c.statistic == s)
            .unwrap()
    };
    let c = get("THD", Statistic::Weekly95TenMinute);
    assert_eq!(c.measured, Some(8.0));
    assert_eq!(c.verdict, Verdict::Pass);
    let c = get("H5", Statistic::Weekly95TenMinute);
    assert_eq!(c.verdict, Verdict::Fail);
    let c = get("THD", Statistic::Daily99ThreeSecond);
    // Day 1 holds 100 values (t from 86 400 s); P99 = rank 99 = 13 %.
    assert_eq!(c.measured, Some(13.0));
    assert_eq!(c.period, Some(1));
    assert_eq!(c.multiplier, 1.5);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(a.overall, Verdict::Fail);
    assert_eq!(a.voltage_class.as_deref(), Some("Table 1: V ≤ 1.0 kV"));
    // Compact rows: THD then worst individual order per statistic.
    let rows = a.table_rows();
    let worst = rows
        .iter()
        .find(|r| r.criterion.contains("individual orders (worst H5)"))
        .unwrap();
    assert_eq!(worst.verdict, Verdict::Fail);
    assert_eq!(worst.cells()[4], "fail");
}

/// Current: Isc/I_L = 30 on 480 V: TDD 8 %, H5 7 %, H11 3.5 %.
#[test]
fn current_assessments_with_multipliers_and_flags() {
    let t10: Vec<f64> = (0..100).map(|i| i as f64 * 600.0).collect();
    // 99 values at 7 %, one at 10.5 % (= 1.5 × 7): P95 = 7 (pass), P99 = 7 (rank 99).
    let mut h5: Vec<(f64, bool)> = vec![(7.0, false); 99];
    h5.push((10.5, false));
    // TDD: 94 at 8 %, 6 at 12.1 % → P95 = rank 95 = 12.1 (fail), P99 = 12.1 > 12 (fail).
    let tdd: Vec<(f64, bool)> = (0..100)
        .map(|i| if i < 94 { (8.0, false) } else { (12.1, false) })
        .collect();
    // H11: a flagged 50 % is left out.
    let mut h11: Vec<(f64, bool)> = vec![(3.5, false); 100];
    h11[50] = (50.0, true);
    let t3: Vec<f64> = (0..100).map(|i| i as f64 * 3.0).collect();
    let h5_3s: Vec<(f64, bool)> = vec![(14.0, false); 100]; // = 2 × 7: pass
    let input = Ieee519Input {
        edition: Edition::E2022,
        bus_voltage: 480.0,
        isc_over_il: Some(30.0),
        observation_seconds: WEEK,
        current: vec![ChannelInput {
            name: "I_A",
            ten_minute: PeriodSeries {
                t: &t10,
                distortion: &tdd,
                orders: vec![
                    OrderSeries {
                        order: 11,
                        values: &h11,
                    },
                    OrderSeries {
                        order: 5,
                        values: &h5,
                    },
                ],
            },
            three_second: PeriodSeries {
                t: &t3,
                distortion: &[],
                orders: vec![OrderSeries {
                    order: 5,
                    values: &h5_3s,
                }],
            },
        }],
        ..Default::default()
    };
    let a = assess(&input).unwrap();
    let get = |q: &str, s: Statistic| {
        a.checks
            .iter()
            .find(|c| c.quantity == q && c.statistic == s)
            .unwrap()
    };
    assert_eq!(
        get("H5", Statistic::Weekly95TenMinute).verdict,
        Verdict::Pass
    );
    assert_eq!(get("H5", Statistic::Weekly99TenMinute).measured, Some(7.0));
    assert_eq!(
        get("H5", Statistic::Weekly99TenMinute).verdict,
        Verdict::Pass
    );
    assert_eq!(
        get("H5", Statistic::Daily99ThreeSecond).verdict,
        Verdict::Pass
    );
    assert_eq!(
        get("TDD", Statistic::Weekly95TenMinute).verdict,
        Verdict::Fail
    );
    assert_eq!(
        get("TDD", Statistic::Weekly99TenMinute).verdict,
        Verdict::Fail
    );
    let tdd3 = get("TDD", Statistic::Daily99ThreeSecond);
    assert_eq!(tdd3.verdict, Verdict::NotAssessed);
    assert_eq!(tdd3.note, "no values");
    let h11c = get("H11", Statistic::Weekly95TenMinute);
    assert_eq!((h11c.values_used, h11c.values_flagged), (99, 1));
    assert_eq!(h11c.verdict, Verdict::Pass);
    assert_eq!(
        a.current_class.as_deref(),
        Some("Table 2 (120 V – 69 kV): Isc/I_L 20 – 50")
    );
}

#[test]
fn short_observation_and_missing_ratio() {
    let t: Vec<f64> = vec![0.0, 600.0];
    let thd = [(2.0, false), (3.0, false)];
    let ch = ChannelInput {
        name: "U_A",
        ten_minute: PeriodSeries {
            t: &t,
            distortion: &thd,
            orders: vec![],
        },
        ..Default::default()
    };
    let input = Ieee519Input {
        bus_voltage: 400.0,
        observation_seconds: 1200.0,
        voltage: vec![ch.clone()],
        current: vec![ChannelInput { name: "I_A", ..ch }],
        ..Default::default()
    };
    let a = assess(&input).unwrap();
    // No Isc/I_L: no current checks.
    assert!(a.current_class.is_none());
    assert!(a.checks.iter().all(|c| c.channel == "U_A"));
    let c = &a.checks[0];
    assert_eq!(c.verdict, Verdict::NotAssessed);
    assert!(c.note.contains("shorter than a week"), "{}", c.note);
    assert!(c.note.contains("within the limit"));
    let a = assess(&Ieee519Input {
        allow_short_observation: true,
        ..input
    })
    .unwrap();
    assert_eq!(a.checks[0].verdict, Verdict::Pass);
    assert_eq!(Edition::from_year(2014), Some(Edition::E2014));
}

#[test]
fn stray_time_stamps_do_not_break_the_periods() {
    let t = [0.0, f64::NAN, 1e300, -5.0];
    let thd = [(1.0, false), (2.0, false), (9.0, false), (3.0, false)];
    let input = Ieee519Input {
        bus_voltage: 400.0,
        observation_seconds: 2.0 * WEEK,
        voltage: vec![ChannelInput {
            name: "U_A",
            ten_minute: PeriodSeries {
                t: &t,
                distortion: &thd,
                orders: vec![],
            },
            ..Default::default()
        }],
        ..Default::default()
    };
    let a = assess(&input).unwrap();
    let c = &a.checks[0];
    // Period 0 holds 1, 2 and 3 (NaN and negative times count as t = 0); the huge time
    // stamp makes a period of its own, whose 9 % fails.
    assert_eq!(c.measured, Some(9.0));
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(!a.table_rows().is_empty());
}
