//! Sample statistics for sweeps: mean, sample standard deviation and a 95%
//! confidence interval for the mean from Student's t distribution.
//!
//! For `n` values the interval is `mean ± t_{0.975, n-1} · sd / √n`, where
//! `sd` is the sample standard deviation (divisor `n - 1`) and
//! `t_{0.975, n-1}` comes from a table for `n - 1 ≤ 30` degrees of freedom
//! and is 1.96 (the normal quantile) beyond. With one value the mean is
//! known but the spread is not: `sd` and the interval are `None`. Values that
//! are not finite (a metric a run could not measure, written as an empty
//! CSV cell) are left out before anything is computed.

/// Two-sided 95% quantiles `t_{0.975, df}` of Student's t distribution for
/// `df = 1..=30` (index `df - 1`), to three decimals as printed in every
/// statistics table (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The normal 97.5% quantile, used for more than 30 degrees of freedom.
pub const Z_975: f64 = 1.96;

/// `t_{0.975, df}`: the multiplier of the standard error in a two-sided 95%
/// confidence interval with `df` degrees of freedom (`None` for `df = 0`).
pub fn t_975(df: usize) -> Option<f64> {
    match df {
        0 => None,
        1..=30 => Some(T_975[df - 1]),
        _ => Some(Z_975),
    }
}

/// Mean, spread and 95% confidence interval of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Finite values the estimate is based on.
    pub n: usize,
    /// Arithmetic mean (`None` without values).
    pub mean: Option<f64>,
    /// Sample standard deviation, divisor `n - 1` (`None` for `n < 2`).
    pub sd: Option<f64>,
    /// Lower end of the 95% confidence interval for the mean.
    pub ci95_low: Option<f64>,
    /// Upper end of the 95% confidence interval for the mean.
    pub ci95_high: Option<f64>,
}

impl Estimate {
    /// The estimate of the finite values among `values`.
    pub fn of(values: &[f64]) -> Estimate {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        if n == 0 {
            return Estimate {
                n,
                mean: None,
                sd: None,
                ci95_low: None,
                ci95_high: None,
            };
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let (sd, half) = match t_975(n - 1) {
            Some(t) => {
                let ss: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
                let sd = (ss / (n - 1) as f64).sqrt();
                (Some(sd), Some(t * sd / (n as f64).sqrt()))
            }
            None => (None, None),
        };
        Estimate {
            n,
            mean: Some(mean),
            sd,
            ci95_low: half.map(|h| mean - h),
            ci95_high: half.map(|h| mean + h),
        }
    }

    /// Half the width of the confidence interval.
    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci95_high? - self.ci95_low?) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn t_table_edges() {
        assert_eq!(t_975(0), None);
        assert_eq!(t_975(1), Some(12.706));
        assert_eq!(t_975(9), Some(2.262));
        assert_eq!(t_975(30), Some(2.042));
        assert_eq!(t_975(31), Some(1.96));
        assert_eq!(t_975(1000), Some(1.96));
        // The quantiles fall with the degrees of freedom towards 1.96.
        for df in 1..30 {
            assert!(t_975(df) > t_975(df + 1), "df {df}");
        }
    }

    #[test]
    fn known_sample() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sd = √(32/7).
        let e = Estimate::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(e.n, 8);
        assert!(close(e.mean.unwrap(), 5.0));
        let sd = (32.0f64 / 7.0).sqrt();
        assert!(close(e.sd.unwrap(), sd));
        let half = 2.365 * sd / 8f64.sqrt();
        assert!(close(e.ci95_low.unwrap(), 5.0 - half));
        assert!(close(e.ci95_high.unwrap(), 5.0 + half));
        assert!(close(e.half_width().unwrap(), half));
    }

    #[test]
    fn two_values_use_df_one() {
        let e = Estimate::of(&[1.0, 3.0]);
        // sd = √2, half width = 12.706 · √2 / √2.
        assert!(close(e.sd.unwrap(), 2f64.sqrt()));
        assert!(close(e.half_width().unwrap(), 12.706));
    }

    #[test]
    fn large_sample_uses_normal_quantile() {
        let v: Vec<f64> = (0..40).map(|i| (i % 2) as f64).collect();
        let e = Estimate::of(&v);
        let sd = e.sd.unwrap();
        assert!(close(e.half_width().unwrap(), 1.96 * sd / 40f64.sqrt()));
    }

    #[test]
    fn degenerate_samples() {
        let one = Estimate::of(&[0.25]);
        assert_eq!(one.mean, Some(0.25));
        assert_eq!((one.sd, one.ci95_low, one.ci95_high), (None, None, None));
        let none = Estimate::of(&[]);
        assert_eq!((none.n, none.mean), (0, None));
        // Non-finite values are left out.
        let e = Estimate::of(&[f64::NAN, 1.0, f64::INFINITY, 3.0]);
        assert_eq!(e.n, 2);
        assert!(close(e.mean.unwrap(), 2.0));
        // Identical values: zero spread, zero-width interval.
        let flat = Estimate::of(&[0.5; 5]);
        assert_eq!(flat.sd, Some(0.0));
        assert_eq!(flat.half_width(), Some(0.0));
    }
}
