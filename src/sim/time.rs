//! Simulated time: [`SimTime`] (an instant) and [`SimDuration`] (a span),
//! both integer nanoseconds so no float ever decides event order.
//!
//! Durations parse from human strings (`250ms`, `10s`, `10m`, `2h`, `1d`,
//! `1.5s`) as used in scenario files.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

/// An instant of simulated time, nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct SimTime(u64);

/// A span of simulated time in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct SimDuration(u64);

const NS_PER_MS: u64 = 1_000_000;
const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    /// The start of a run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time (used as "never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `ns` nanoseconds after the start.
    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start (lossy, for output).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// Whole seconds since the start.
    pub const fn as_secs(self) -> u64 {
        self.0 / NS_PER_S
    }

    /// The span since an earlier instant; `None` if `earlier` is later.
    pub fn checked_duration_since(self, earlier: SimTime) -> Option<SimDuration> {
        self.0.checked_sub(earlier.0).map(SimDuration)
    }

    /// The span since an earlier instant, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// Zero length.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// A span of `us` microseconds.
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(1_000))
    }
    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(NS_PER_MS))
    }
    /// A span of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(NS_PER_S))
    }
    /// A span of `s` seconds given as a float, rounded to the nearest
    /// nanosecond (negative and NaN become zero; huge values saturate).
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            return SimDuration(0);
        }
        SimDuration(round_positive(s * NS_PER_S as f64))
    }
    /// A span of `ms` milliseconds given as a float (see [`Self::from_secs_f64`]).
    pub fn from_millis_f64(ms: f64) -> Self {
        Self::from_secs_f64(ms / 1000.0)
    }
    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Seconds (lossy).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Milliseconds (lossy).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }
    /// `self + rhs`, saturating.
    pub const fn saturating_add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
    /// `self * n`, saturating.
    pub const fn saturating_mul(self, n: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at [`SimTime::MAX`].
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        self.saturating_add(d)
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    /// Saturates at zero.
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Display for SimTime {
    /// Seconds with millisecond precision, e.g. `12.345s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03}s",
            self.0 / NS_PER_S,
            (self.0 % NS_PER_S) / NS_PER_MS
        )
    }
}

impl fmt::Display for SimDuration {
    /// The largest unit that represents the span exactly, e.g. `10m`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        for (unit, size) in UNITS.iter().rev() {
            if ns != 0 && ns % size == 0 {
                return write!(f, "{}{}", ns / size, unit);
            }
        }
        if ns == 0 {
            return write!(f, "0s");
        }
        write!(f, "{}ns", ns)
    }
}

/// Units accepted by [`SimDuration::from_str`], smallest first.
const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", NS_PER_MS),
    ("s", NS_PER_S),
    ("m", 60 * NS_PER_S),
    ("h", 3600 * NS_PER_S),
    ("d", 86_400 * NS_PER_S),
];

/// Error parsing a duration string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{0}`: expected a number and a unit (ns, us, ms, s, m, h, d), e.g. `10m`, `250ms` or `1h30m`")]
pub struct DurationParseError(pub String);

impl FromStr for SimDuration {
    type Err = DurationParseError;
    /// One or more `<number><unit>` parts, summed: `10m`, `250ms`, `1.5s`,
    /// `1h30m`, `2m 30s`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationParseError(s.to_string());
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(err());
        }
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let split = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(err)?;
            let (num, tail) = rest.split_at(split);
            let tail = tail.trim_start();
            let unit_len = tail
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(tail.len());
            let (unit, after) = tail.split_at(unit_len);
            let size = UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, n)| *n)
                .ok_or_else(err)?;
            if num.is_empty() {
                return Err(err());
            }
            let part = if let Ok(n) = num.parse::<u64>() {
                n.checked_mul(size).ok_or_else(err)?
            } else {
                let x: f64 = num.parse().map_err(|_| err())?;
                let ns = (x * size as f64).round();
                if !x.is_finite() || ns >= u64::MAX as f64 {
                    return Err(err());
                }
                ns as u64
            };
            total = total.checked_add(part).ok_or_else(err)?;
            rest = after.trim_start();
        }
        Ok(SimDuration(total))
    }
}

impl serde::Serialize for SimDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SimDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `x.round() as u64` for `x > 0` (half away from zero; 2^64 and beyond
/// saturate), without a call to the C library's `round`: on the x86-64
/// baseline `f64::round` is a function call, and every latency drawn goes
/// through here. Exact: below 2^53 the truncation `t` and `x - t` are
/// exact, and from 2^53 on every `f64` is an integer.
#[inline]
fn round_positive(x: f64) -> u64 {
    debug_assert!(x > 0.0);
    if x >= u64::MAX as f64 {
        return u64::MAX;
    }
    let t = x as u64;
    if x - t as f64 >= 0.5 {
        t + 1
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The same nanoseconds as `f64::round`, on any positive float:
        /// bit patterns drawn whole, so halves, huge values and values
        /// just below a half are all reached.
        #[test]
        fn round_positive_is_round(bits in 1u64..0x7ff0_0000_0000_0000) {
            let x = f64::from_bits(bits);
            let reference = x.round();
            let expected = if reference >= u64::MAX as f64 { u64::MAX } else { reference as u64 };
            proptest::prop_assert_eq!(round_positive(x), expected);
        }

        /// Around halves and the integers below 2^53, where rounding turns.
        #[test]
        fn round_positive_at_halves(n in 0u64..(1 << 53), k in 0usize..5) {
            let h = n as f64 + 0.5;
            let x = [h, h.next_down(), h.next_up(), (n as f64).next_up(), n as f64 + 1.0][k];
            let expected = x.round();
            proptest::prop_assert_eq!(round_positive(x), expected as u64);
        }
    }

    #[test]
    fn round_positive_edges() {
        for (x, want) in [
            (0.49999999999999994, 0),
            (0.5, 1),
            (1.5, 2),
            (2.5, 3),
            (4503599627370495.5, 4503599627370496),
            (9007199254740993.0, 9007199254740992),
            (1.8446744073709552e19, u64::MAX),
            (f64::INFINITY, u64::MAX),
            (f64::MIN_POSITIVE, 0),
        ] {
            assert_eq!(round_positive(x), want, "{x}");
        }
    }

    #[test]
    fn parses_and_displays_durations() {
        let cases = [
            ("10m", 600 * NS_PER_S, "10m"),
            ("2h", 7200 * NS_PER_S, "2h"),
            ("250ms", 250 * NS_PER_MS, "250ms"),
            ("1.5s", 1500 * NS_PER_MS, "1500ms"),
            ("90s", 90 * NS_PER_S, "90s"),
            ("1d", 86_400 * NS_PER_S, "1d"),
            ("1h30m", 5400 * NS_PER_S, "90m"),
            ("2m 30.5s", 150_500 * NS_PER_MS, "150500ms"),
            ("3723.456s", 3_723_456 * NS_PER_MS, "3723456ms"),
        ];
        for (s, ns, shown) in cases {
            let d: SimDuration = s.parse().unwrap();
            assert_eq!(d.as_nanos(), ns, "{s}");
            assert_eq!(d.to_string(), shown);
        }
        for bad in [
            "",
            "10",
            "m",
            "10 parsecs",
            "-1s",
            "1e999s",
            "1h30",
            "1h-30m",
            "s10",
        ] {
            assert!(bad.parse::<SimDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn time_arithmetic() {
        let t = SimTime::ZERO + SimDuration::from_secs(3);
        assert_eq!(t.as_secs(), 3);
        assert_eq!((t - SimTime::from_nanos(NS_PER_S)).as_nanos(), 2 * NS_PER_S);
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(t.to_string(), "3.000s");
    }
}
