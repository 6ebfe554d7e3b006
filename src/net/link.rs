//! Links: how long a message takes from one node to another.
//!
//! A message's delay is propagation latency plus transmission time:
//!
//! - **Latency** is drawn per message from a [`LatencyModel`]. A
//!   [`LinkModel`] holds one model per ordered pair of regions: either a
//!   single model for the whole network ([`LinkModel::uniform`]) or a
//!   region matrix of mean latencies with a jitter family around each mean
//!   ([`LinkModel::from_regions`], e.g. SimBlock's 2019 Bitcoin measurements
//!   in [`Regions::simblock_2019`]).
//! - **Transmission** is `bytes * 8 / min(sender upload, receiver download)`
//!   ([`transmission_delay`]), as SimBlock's `getBandwidth`; a sender sends
//!   one message at a time through its [`Uplink`], so back-to-back messages
//!   queue behind each other.
//!
//! Randomness comes only from the generator passed in: the world hands in
//! the sending node's own stream, so draws stay reproducible. Floats appear
//! only in parameters and in the sampled value, which is rounded to integer
//! nanoseconds at once; they never decide event order directly.
//!
//! Region indices are `usize` positions in [`Regions::names`]; nodes are
//! placed in regions by [`assign_regions`].

use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::sim::{SimDuration, SimTime};

/// Errors in link parameters.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LinkError {
    /// A parameter that must be a finite number in some range is not.
    #[error("{field} = {value} is invalid: it {requirement}")]
    InvalidValue {
        /// The parameter (e.g. `mean_ms`, `up_mbps[2]`).
        field: String,
        /// The value given.
        value: f64,
        /// What it must be.
        requirement: Bound,
    },
    /// A uniform latency whose minimum exceeds its maximum.
    #[error("uniform latency min_ms = {min_ms} is above max_ms = {max_ms}")]
    MinAboveMax {
        /// Lower bound.
        min_ms: f64,
        /// Upper bound.
        max_ms: f64,
    },
    /// A Pareto shape of at most 1 has no finite mean.
    #[error("pareto shape {shape} must be greater than 1 (at or below 1 the mean is infinite; SimBlock's rule uses shape = mean_ms / 5, so it needs mean_ms > 5)")]
    ParetoShape {
        /// The shape given (for SimBlock's rule, `mean_ms / 5`).
        shape: f64,
    },
    /// A region model with no region.
    #[error("a region model needs at least one region")]
    NoRegions,
    /// The latency matrix is not `regions × regions`.
    #[error("latency matrix row {row} has {len} entries, expected {regions} (one per region)")]
    NotSquare {
        /// The number of regions.
        regions: usize,
        /// The offending row (or `regions` itself when rows are missing).
        row: usize,
        /// Its length (or the number of rows).
        len: usize,
    },
    /// A per-region list of the wrong length.
    #[error("{field} has {got} entries, expected {expected} (one per region)")]
    LengthMismatch {
        /// The list's name.
        field: &'static str,
        /// The number of regions.
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// Region shares that are empty, negative or sum to zero.
    #[error("invalid region shares: {reason}")]
    InvalidShares {
        /// What is wrong.
        reason: String,
    },
    /// An invalid latency model for one pair of regions.
    #[error("latency from region {from} to region {to}: {source}")]
    RegionPair {
        /// Sending region.
        from: usize,
        /// Receiving region.
        to: usize,
        /// What is wrong with the pair's model.
        source: Box<LinkError>,
    },
    /// A region index outside the model.
    #[error("region {region} does not exist (the model has {regions} regions)")]
    UnknownRegion {
        /// The index given.
        region: usize,
        /// The number of regions.
        regions: usize,
    },
}

/// The range a link parameter must lie in (besides being finite).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// At least zero (latencies, standard deviations).
    AtLeastZero,
    /// Greater than zero (bandwidths, the means of heavy-tailed models).
    AboveZero,
    /// Between 0 and 1 inclusive (a uniform jitter's relative spread).
    ZeroToOne,
}

impl Bound {
    /// The bound as an inequality, e.g. `>= 0`.
    pub fn inequality(self) -> &'static str {
        match self {
            Bound::AtLeastZero => ">= 0",
            Bound::AboveZero => "> 0",
            Bound::ZeroToOne => "0 to 1",
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Bound::AtLeastZero => "must be finite and at least 0",
            Bound::AboveZero => "must be finite and greater than 0",
            Bound::ZeroToOne => "must be between 0 and 1",
        })
    }
}

fn check(field: &str, value: f64, ok: bool, requirement: Bound) -> Result<(), LinkError> {
    if ok {
        Ok(())
    } else {
        Err(LinkError::InvalidValue {
            field: field.to_string(),
            value,
            requirement,
        })
    }
}

fn check_non_negative(field: &str, value: f64) -> Result<(), LinkError> {
    check(
        field,
        value,
        value.is_finite() && value >= 0.0,
        Bound::AtLeastZero,
    )
}

fn check_positive(field: &str, value: f64) -> Result<(), LinkError> {
    check(
        field,
        value,
        value.is_finite() && value > 0.0,
        Bound::AboveZero,
    )
}

/// The default Pareto shape when a scenario gives only a mean.
pub const DEFAULT_PARETO_SHAPE: f64 = 5.0;

fn default_pareto_shape() -> f64 {
    DEFAULT_PARETO_SHAPE
}

/// A distribution of one-way propagation latency, in milliseconds.
///
/// Serialises with a `kind` tag, e.g. `{ kind: constant, ms: 100 }` or
/// `{ kind: pareto, mean_ms: 120 }`. Call [`Self::validate`] on models from
/// users; [`Self::sample`] never panics, but invalid parameters give
/// meaningless draws.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyModel {
    /// Always `ms`.
    Constant {
        /// The latency.
        ms: f64,
    },
    /// Uniform on `[min_ms, max_ms)`.
    Uniform {
        /// Lower bound.
        min_ms: f64,
        /// Upper bound.
        max_ms: f64,
    },
    /// Normal with this mean and standard deviation, truncated at 0 (negative
    /// draws are redrawn; the mean is slightly above `mean_ms` when `sd_ms`
    /// is large relative to it).
    Normal {
        /// Mean of the untruncated normal.
        mean_ms: f64,
        /// Standard deviation of the untruncated normal.
        sd_ms: f64,
    },
    /// Log-normal, parameterised by the mean and standard deviation of the
    /// latency itself: `sigma² = ln(1 + sd²/mean²)`, `mu = ln(mean) - sigma²/2`.
    LogNormal {
        /// Mean latency.
        mean_ms: f64,
        /// Standard deviation of the latency.
        sd_ms: f64,
    },
    /// Pareto (heavy right tail, minimum `scale`) with the given mean:
    /// `scale = mean_ms * (shape - 1) / shape`, so the mean is exactly
    /// `mean_ms`; draws are `scale / U^(1/shape)` for `U` uniform on (0, 1].
    /// SimBlock's `getLatency` is the special case `shape = mean_ms / 5`
    /// ([`Self::simblock`]).
    Pareto {
        /// Mean latency.
        mean_ms: f64,
        /// Tail index, greater than 1 (default [`DEFAULT_PARETO_SHAPE`]);
        /// larger means less jitter.
        #[serde(default = "default_pareto_shape")]
        shape: f64,
    },
}

impl LatencyModel {
    /// SimBlock's latency rule (`simblock/simulator/Network.java`,
    /// `getLatency`): Pareto with shape `0.2 * mean` and scale `mean - 5` ms,
    /// whose mean is exactly `mean_ms`. (SimBlock then rounds to whole
    /// milliseconds; we keep nanoseconds.) Needs `mean_ms > 5`.
    pub fn simblock(mean_ms: f64) -> LatencyModel {
        LatencyModel::Pareto {
            mean_ms,
            shape: 0.2 * mean_ms,
        }
    }

    /// The mean latency in milliseconds (for `Normal`, of the untruncated
    /// distribution).
    pub fn mean_ms(&self) -> f64 {
        match *self {
            LatencyModel::Constant { ms } => ms,
            LatencyModel::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            LatencyModel::Normal { mean_ms, .. }
            | LatencyModel::LogNormal { mean_ms, .. }
            | LatencyModel::Pareto { mean_ms, .. } => mean_ms,
        }
    }

    /// Checks the parameters: finite, non-negative, `min <= max`, Pareto
    /// shape above 1; log-normal and Pareto means must be positive.
    pub fn validate(&self) -> Result<(), LinkError> {
        match *self {
            LatencyModel::Constant { ms } => check_non_negative("ms", ms),
            LatencyModel::Uniform { min_ms, max_ms } => {
                check_non_negative("min_ms", min_ms)?;
                check_non_negative("max_ms", max_ms)?;
                if min_ms > max_ms {
                    return Err(LinkError::MinAboveMax { min_ms, max_ms });
                }
                Ok(())
            }
            LatencyModel::Normal { mean_ms, sd_ms } => {
                check_positive("mean_ms", mean_ms)?;
                check_non_negative("sd_ms", sd_ms)
            }
            LatencyModel::LogNormal { mean_ms, sd_ms } => {
                check_positive("mean_ms", mean_ms)?;
                check_non_negative("sd_ms", sd_ms)
            }
            LatencyModel::Pareto { mean_ms, shape } => {
                check_positive("mean_ms", mean_ms)?;
                if !(shape.is_finite() && shape > 1.0) {
                    return Err(LinkError::ParetoShape { shape });
                }
                Ok(())
            }
        }
    }

    /// Draws one latency.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        self.draw(rng).value()
    }

    /// Draws one latency whose value is worked out only when asked for
    /// ([`LatencyDraw::value`], the same as [`Self::sample`] would have
    /// returned): the random stream advances exactly as `sample` advances
    /// it, and [`LatencyDraw::bounds`] brackets the value cheaply.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> LatencyDraw {
        match pareto_draws(self) {
            Some(p) => p.draw(rng),
            None => LatencyDraw(Drawn::Exact(SimDuration::from_millis_f64(
                self.sample_ms(rng),
            ))),
        }
    }

    /// Draws one latency in (fractional) milliseconds, never negative.
    pub fn sample_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let ms = match *self {
            LatencyModel::Constant { ms } => ms,
            LatencyModel::Uniform { min_ms, max_ms } => {
                min_ms + (max_ms - min_ms) * rng.gen::<f64>()
            }
            LatencyModel::Normal { mean_ms, sd_ms } => {
                // Truncation by rejection; bounded so a nonsense mean cannot
                // loop forever (then clamp).
                let mut x = -1.0;
                for _ in 0..64 {
                    let z: f64 = StandardNormal.sample(rng);
                    x = mean_ms + sd_ms * z;
                    if x >= 0.0 {
                        break;
                    }
                }
                x
            }
            LatencyModel::LogNormal { mean_ms, sd_ms } => {
                let sigma2 = (1.0 + (sd_ms * sd_ms) / (mean_ms * mean_ms)).ln();
                let mu = mean_ms.ln() - sigma2 / 2.0;
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma2.sqrt() * z).exp()
            }
            LatencyModel::Pareto { mean_ms, shape } => pareto_ms(
                pareto_scale(mean_ms, shape),
                1.0 / shape,
                pareto_uniform(rng),
            ),
        };
        not_negative(ms)
    }
}

/// A Pareto model's scale (its minimum) for `mean_ms` and `shape`.
fn pareto_scale(mean_ms: f64, shape: f64) -> f64 {
    mean_ms * (shape - 1.0) / shape
}

/// A Pareto draw's uniform `u` in (0, 1], taken from `rng`.
fn pareto_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    1.0 - rng.gen::<f64>()
}

/// A Pareto draw in milliseconds from its uniform `u` in (0, 1], for a
/// shape whose reciprocal is `inv_shape`.
fn pareto_ms(scale: f64, inv_shape: f64, u: f64) -> f64 {
    scale / u.powf(inv_shape)
}

/// What every [`LatencyDraw`] of one Pareto model (shape above 1) shares,
/// worked out once per model: [`LinkModel`] keeps one per region pair, so
/// a draw costs a random number, and its bounds one division.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ParetoDraws {
    scale: f64,
    inv_shape: f64,
    /// The lower bound of every draw: the scale in nanoseconds, truncated
    /// (see [`LatencyDraw::bounds`]).
    low: SimDuration,
    /// The scale in nanoseconds widened by 2^-40 against rounding: over
    /// `u`, an upper bound of the draw before its rounding to nanoseconds.
    high_times_u: f64,
}

impl ParetoDraws {
    fn new(mean_ms: f64, shape: f64) -> Self {
        let scale = pareto_scale(mean_ms, shape);
        // The same steps as `SimDuration::from_millis_f64` before its
        // rounding; `as` saturates.
        let ns = not_negative(scale) / 1000.0 * 1e9;
        ParetoDraws {
            scale,
            inv_shape: 1.0 / shape,
            low: SimDuration::from_nanos(ns as u64),
            high_times_u: ns * (1.0 + f64::EPSILON * 4096.0),
        }
    }

    #[inline(always)]
    fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> LatencyDraw {
        LatencyDraw(Drawn::Pareto {
            consts: *self,
            u: pareto_uniform(rng),
        })
    }
}

/// The relative margin [`LatencyDraw::surely_below`] takes off its product
/// against roundings: 2^-50, above the 3 × 2^-53 that rounding `m` to a
/// float and two multiplications can add.
const BELOW_MARGIN: f64 = 1.0 / (1u64 << 50) as f64;

/// `ms`, or 0 for NaN and negative values.
fn not_negative(ms: f64) -> f64 {
    if ms.is_nan() {
        0.0
    } else {
        ms.max(0.0)
    }
}

/// One latency drawn by [`LatencyModel::draw`]: its random numbers are
/// taken, its value is computed on demand.
#[derive(Clone, Copy, Debug)]
pub struct LatencyDraw(Drawn);

#[derive(Clone, Copy, Debug)]
enum Drawn {
    Exact(SimDuration),
    /// A Pareto draw before its `powf` (shape above 1).
    Pareto {
        consts: ParetoDraws,
        u: f64,
    },
}

impl LatencyDraw {
    /// The latency: what [`LatencyModel::sample`] returns for the same
    /// random numbers.
    pub fn value(&self) -> SimDuration {
        match self.0 {
            Drawn::Exact(d) => d,
            Drawn::Pareto { consts, u } => SimDuration::from_millis_f64(not_negative(pareto_ms(
                consts.scale,
                consts.inv_shape,
                u,
            ))),
        }
    }

    /// A lower bound of [`Self::value`], without a `powf` (the first of
    /// [`Self::bounds`]).
    pub fn low(&self) -> SimDuration {
        match self.0 {
            Drawn::Exact(d) => d,
            Drawn::Pareto { consts, .. } => consts.low,
        }
    }

    /// Whether [`Self::value`] is below `limit` for certain, decided
    /// without a `powf` or a division: when this holds, so does
    /// `self.bounds().1 < limit` up to roundings, and the answer is never
    /// wrong (a `false` may only mean "not sure").
    ///
    /// For a Pareto draw, with `H` the scale in nanoseconds widened by
    /// 2^-40 (see [`Self::bounds`]) and `m = limit - 1` ns: `H / U` bounds
    /// the draw before its rounding to whole nanoseconds, so if `H / U <
    /// m` the rounded value is at most `m`, below `limit`. `H < m * U` is
    /// that test without the division; the product (and `m` as a float,
    /// rounded to nearest) is taken smaller by 2^-50, more than its
    /// roundings could have made it larger. The division's latency sat
    /// in the announcement loop's chain of decisions: about a ninth of
    /// `World::call`'s samples under `perf`.
    #[inline]
    pub fn surely_below(&self, limit: SimDuration) -> bool {
        match self.0 {
            Drawn::Exact(d) => d < limit,
            Drawn::Pareto { consts, u } => {
                let Some(m) = limit.as_nanos().checked_sub(1) else {
                    return false;
                };
                consts.high_times_u < m as f64 * u * (1.0 - BELOW_MARGIN)
            }
        }
    }

    /// `(low, high)` with `low <= self.value() <= high`, without a `powf`.
    ///
    /// A Pareto draw is `scale / p` with `p = U^(1/shape)` in `[U, 1]`
    /// (`U <= 1`, `shape > 1`); a faithfully rounded `powf` keeps `p` in
    /// that range, and division is monotone, so `scale` and `scale / U`
    /// bracket it. In nanoseconds: the scale's, truncated (the conversion
    /// rounds to nearest and is monotone), and the scale's widened by
    /// 2^-40 (far more than the few roundings of either side), over `U`,
    /// truncated plus one. The lower bound is the model's; the upper costs
    /// one division.
    pub fn bounds(&self) -> (SimDuration, SimDuration) {
        match self.0 {
            Drawn::Exact(d) => (d, d),
            Drawn::Pareto { consts, u } => {
                // `as` saturates.
                let high = ((consts.high_times_u / u) as u64).saturating_add(1);
                (consts.low, SimDuration::from_nanos(high))
            }
        }
    }
}

/// How latency varies around a region pair's mean in a region matrix.
/// Serialises with a `kind` tag, e.g. `{ kind: simblock }`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Jitter {
    /// Exactly the mean.
    None,
    /// Uniform on `mean * [1 - spread, 1 + spread]`, `spread` in `[0, 1]`.
    Uniform {
        /// Half-width relative to the mean.
        spread: f64,
    },
    /// Truncated normal with `sd = cv * mean`.
    Normal {
        /// Coefficient of variation.
        cv: f64,
    },
    /// Log-normal with `sd = cv * mean`.
    LogNormal {
        /// Coefficient of variation.
        cv: f64,
    },
    /// Pareto with a fixed shape and the pair's mean.
    Pareto {
        /// Tail index, greater than 1.
        shape: f64,
    },
    /// SimBlock's rule: Pareto with shape `mean / 5` (see
    /// [`LatencyModel::simblock`]).
    Simblock,
}

impl Jitter {
    /// The latency model of this family with mean `mean_ms`.
    pub fn model(&self, mean_ms: f64) -> LatencyModel {
        match *self {
            Jitter::None => LatencyModel::Constant { ms: mean_ms },
            Jitter::Uniform { spread } => LatencyModel::Uniform {
                min_ms: mean_ms * (1.0 - spread),
                max_ms: mean_ms * (1.0 + spread),
            },
            Jitter::Normal { cv } => LatencyModel::Normal {
                mean_ms,
                sd_ms: cv * mean_ms,
            },
            Jitter::LogNormal { cv } => LatencyModel::LogNormal {
                mean_ms,
                sd_ms: cv * mean_ms,
            },
            Jitter::Pareto { shape } => LatencyModel::Pareto { mean_ms, shape },
            Jitter::Simblock => LatencyModel::simblock(mean_ms),
        }
    }

    fn validate(&self) -> Result<(), LinkError> {
        match *self {
            Jitter::Uniform { spread } => check(
                "spread",
                spread,
                (0.0..=1.0).contains(&spread),
                Bound::ZeroToOne,
            ),
            Jitter::Normal { cv } | Jitter::LogNormal { cv } => check_non_negative("cv", cv),
            Jitter::None | Jitter::Pareto { .. } | Jitter::Simblock => Ok(()),
        }
    }
}

/// Index of North America in the SimBlock region tables.
pub const NORTH_AMERICA: usize = 0;
/// Index of Europe in the SimBlock region tables.
pub const EUROPE: usize = 1;
/// Index of South America in the SimBlock region tables.
pub const SOUTH_AMERICA: usize = 2;
/// Index of Asia-Pacific in the SimBlock region tables.
pub const ASIA_PACIFIC: usize = 3;
/// Index of Japan in the SimBlock region tables.
pub const JAPAN: usize = 4;
/// Index of Australia in the SimBlock region tables.
pub const AUSTRALIA: usize = 5;

/// SimBlock's region names (`REGION_LIST`), in index order.
pub const SIMBLOCK_REGION_NAMES: [&str; 6] = [
    "NORTH_AMERICA",
    "EUROPE",
    "SOUTH_AMERICA",
    "ASIA_PACIFIC",
    "JAPAN",
    "AUSTRALIA",
];

/// Mean one-way latency in ms between regions, Bitcoin 2019
/// (SimBlock `NetworkConfiguration.LATENCY_2019`; row = sender).
pub const SIMBLOCK_2019_LATENCY_MS: [[f64; 6]; 6] = [
    [32.0, 124.0, 184.0, 198.0, 151.0, 189.0],
    [124.0, 11.0, 227.0, 237.0, 252.0, 294.0],
    [184.0, 227.0, 88.0, 325.0, 301.0, 322.0],
    [198.0, 237.0, 325.0, 85.0, 58.0, 198.0],
    [151.0, 252.0, 301.0, 58.0, 12.0, 126.0],
    [189.0, 294.0, 322.0, 198.0, 126.0, 16.0],
];

/// Upload bandwidth per region in Mbit/s, Bitcoin 2019
/// (SimBlock `UPLOAD_BANDWIDTH_2019`).
pub const SIMBLOCK_2019_UP_MBPS: [f64; 6] = [19.2, 20.7, 5.8, 15.7, 10.2, 11.3];

/// Download bandwidth per region in Mbit/s, Bitcoin 2019
/// (SimBlock `DOWNLOAD_BANDWIDTH_2019`).
pub const SIMBLOCK_2019_DOWN_MBPS: [f64; 6] = [52.0, 40.0, 18.0, 22.8, 22.8, 29.9];

/// Share of Bitcoin nodes per region, 2019
/// (SimBlock `REGION_DISTRIBUTION_BITCOIN_2019`; sums to 1).
pub const SIMBLOCK_2019_REGION_SHARES: [f64; 6] = [0.3316, 0.4998, 0.0090, 0.1177, 0.0224, 0.0195];

/// Named regions with a mean-latency matrix and per-region bandwidth.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regions {
    /// Region names; a region's index is its position here.
    pub names: Vec<String>,
    /// `latency_ms[from][to]`: mean one-way latency in milliseconds.
    pub latency_ms: Vec<Vec<f64>>,
    /// Upload bandwidth of a node in each region, Mbit/s.
    pub up_mbps: Vec<f64>,
    /// Download bandwidth of a node in each region, Mbit/s.
    pub down_mbps: Vec<f64>,
}

impl Regions {
    /// SimBlock's Bitcoin 2019 network: six regions with the
    /// `SIMBLOCK_2019_*` tables.
    pub fn simblock_2019() -> Regions {
        Regions {
            names: SIMBLOCK_REGION_NAMES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            latency_ms: SIMBLOCK_2019_LATENCY_MS
                .iter()
                .map(|r| r.to_vec())
                .collect(),
            up_mbps: SIMBLOCK_2019_UP_MBPS.to_vec(),
            down_mbps: SIMBLOCK_2019_DOWN_MBPS.to_vec(),
        }
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there is no region (never true for a validated model).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Checks shapes (square matrix, one bandwidth per region) and values
    /// (latencies finite and non-negative, bandwidths positive).
    pub fn validate(&self) -> Result<(), LinkError> {
        let r = self.names.len();
        if r == 0 {
            return Err(LinkError::NoRegions);
        }
        if self.latency_ms.len() != r {
            return Err(LinkError::NotSquare {
                regions: r,
                row: r,
                len: self.latency_ms.len(),
            });
        }
        for (i, row) in self.latency_ms.iter().enumerate() {
            if row.len() != r {
                return Err(LinkError::NotSquare {
                    regions: r,
                    row: i,
                    len: row.len(),
                });
            }
            for (j, &ms) in row.iter().enumerate() {
                check_non_negative(&format!("latency_ms[{i}][{j}]"), ms)?;
            }
        }
        for (field, list) in [("up_mbps", &self.up_mbps), ("down_mbps", &self.down_mbps)] {
            if list.len() != r {
                return Err(LinkError::LengthMismatch {
                    field,
                    expected: r,
                    got: list.len(),
                });
            }
            for (i, &v) in list.iter().enumerate() {
                check_positive(&format!("{field}[{i}]"), v)?;
            }
        }
        Ok(())
    }
}

/// Latency and bandwidth between any two nodes, given their regions.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkModel {
    regions: usize,
    /// `models[from * regions + to]`.
    models: Vec<LatencyModel>,
    /// Per model, its [`ParetoDraws`] if it is a Pareto model with a
    /// shape above 1 (what [`LatencyModel::draw`] would work out per draw).
    pareto: Vec<Option<ParetoDraws>>,
    up_bps: Vec<f64>,
    down_bps: Vec<f64>,
}

impl LinkModel {
    /// One latency model and one bandwidth for the whole network (a single
    /// region, index 0).
    pub fn uniform(
        latency: LatencyModel,
        up_mbps: f64,
        down_mbps: f64,
    ) -> Result<LinkModel, LinkError> {
        latency.validate()?;
        check_positive("up_mbps", up_mbps)?;
        check_positive("down_mbps", down_mbps)?;
        Ok(LinkModel {
            regions: 1,
            pareto: vec![pareto_draws(&latency)],
            models: vec![latency],
            up_bps: vec![up_mbps * 1e6],
            down_bps: vec![down_mbps * 1e6],
        })
    }

    /// A region matrix: the latency from region `a` to `b` is `jitter`'s
    /// model with mean `regions.latency_ms[a][b]`.
    pub fn from_regions(regions: &Regions, jitter: Jitter) -> Result<LinkModel, LinkError> {
        regions.validate()?;
        jitter.validate()?;
        let mut models = Vec::with_capacity(regions.len() * regions.len());
        for (from, row) in regions.latency_ms.iter().enumerate() {
            for (to, &mean) in row.iter().enumerate() {
                let model = jitter.model(mean);
                model.validate().map_err(|e| LinkError::RegionPair {
                    from,
                    to,
                    source: Box::new(e),
                })?;
                models.push(model);
            }
        }
        Ok(LinkModel {
            regions: regions.len(),
            pareto: models.iter().map(pareto_draws).collect(),
            models,
            up_bps: regions.up_mbps.iter().map(|m| m * 1e6).collect(),
            down_bps: regions.down_mbps.iter().map(|m| m * 1e6).collect(),
        })
    }

    /// Number of regions.
    pub fn region_count(&self) -> usize {
        self.regions
    }

    /// Checks that `region` exists (for validating user-given placements).
    pub fn check_region(&self, region: usize) -> Result<(), LinkError> {
        if region < self.regions {
            Ok(())
        } else {
            Err(LinkError::UnknownRegion {
                region,
                regions: self.regions,
            })
        }
    }

    /// The latency model from `from_region` to `to_region`.
    ///
    /// # Panics
    /// If a region index is out of range (see [`Self::check_region`]).
    pub fn model(&self, from_region: usize, to_region: usize) -> &LatencyModel {
        &self.models[self.pair(from_region, to_region)]
    }

    /// The index of a region pair in `models` and `pareto` (panics like
    /// [`Self::model`]).
    fn pair(&self, from_region: usize, to_region: usize) -> usize {
        assert!(from_region < self.regions && to_region < self.regions);
        from_region * self.regions + to_region
    }

    /// Draws the propagation latency of one message (panics like
    /// [`Self::model`]).
    pub fn latency<R: Rng + ?Sized>(
        &self,
        from_region: usize,
        to_region: usize,
        rng: &mut R,
    ) -> SimDuration {
        self.model(from_region, to_region).sample(rng)
    }

    /// [`Self::latency`], with the value computed on demand
    /// ([`LatencyModel::draw`]).
    #[inline(always)]
    pub fn draw<R: Rng + ?Sized>(
        &self,
        from_region: usize,
        to_region: usize,
        rng: &mut R,
    ) -> LatencyDraw {
        let k = self.pair(from_region, to_region);
        match self.pareto[k] {
            Some(p) => p.draw(rng),
            None => self.models[k].draw(rng),
        }
    }

    /// Upload bandwidth of a node in `region`, bit/s.
    pub fn up_bps(&self, region: usize) -> f64 {
        self.up_bps[region]
    }

    /// Download bandwidth of a node in `region`, bit/s.
    pub fn down_bps(&self, region: usize) -> f64 {
        self.down_bps[region]
    }

    /// Time to push `bytes` from a node in `from_region` to one in
    /// `to_region` ([`transmission_delay`] with their bandwidths).
    pub fn transmission(&self, bytes: u64, from_region: usize, to_region: usize) -> SimDuration {
        transmission_delay(bytes, self.up_bps[from_region], self.down_bps[to_region])
    }
}

/// The [`ParetoDraws`] of `model`, if it is a Pareto model with a shape
/// above 1 (the models [`LatencyModel::draw`] defers the `powf` of: only a
/// finite-mean shape, as the upper bound needs `U^(1/shape) >= U`).
fn pareto_draws(model: &LatencyModel) -> Option<ParetoDraws> {
    match *model {
        LatencyModel::Pareto { mean_ms, shape } if shape > 1.0 => {
            Some(ParetoDraws::new(mean_ms, shape))
        }
        _ => None,
    }
}

/// Time to transmit `bytes` over a link limited by the slower of the
/// sender's upload and the receiver's download: `bytes * 8 / min(up, down)`
/// seconds, rounded to the nanosecond. Zero bytes take no time; a zero
/// bandwidth never finishes ([`SimDuration::MAX`]).
pub fn transmission_delay(bytes: u64, sender_up_bps: f64, receiver_down_bps: f64) -> SimDuration {
    if bytes == 0 {
        return SimDuration::ZERO;
    }
    let bps = sender_up_bps.min(receiver_down_bps);
    if bps.is_nan() || bps <= 0.0 {
        return SimDuration::MAX;
    }
    SimDuration::from_secs_f64(bytes as f64 * 8.0 / bps)
}

/// A node's upload link: it sends one message at a time, so a message
/// handed over while the link is busy starts when the previous one is done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Uplink {
    /// When the last queued message finishes sending.
    pub busy_until: SimTime,
}

impl Uplink {
    /// An idle link.
    pub const fn new() -> Self {
        Uplink {
            busy_until: SimTime::ZERO,
        }
    }

    /// Whether the link is free at `now`.
    pub fn is_idle(&self, now: SimTime) -> bool {
        self.busy_until <= now
    }

    /// Queues a message that takes `tx_time` to send, handed over at `now`.
    /// Returns `(start, done)`: it starts at `max(now, busy_until)` and the
    /// link is then busy until `done = start + tx_time`.
    pub fn enqueue(&mut self, now: SimTime, tx_time: SimDuration) -> (SimTime, SimTime) {
        let start = now.max(self.busy_until);
        let done = start + tx_time;
        self.busy_until = done;
        (start, done)
    }
}

/// Places `n` nodes in regions in proportion to `shares` (which need not sum
/// to 1): region `i` gets its largest-remainder count of
/// `n * shares[i] / sum(shares)` (ties in remainder go to the lower index),
/// then the list is shuffled with `rng`. The counts are exact and
/// deterministic; only who lands where depends on `rng`.
pub fn assign_regions<R: Rng + ?Sized>(
    n: usize,
    shares: &[f64],
    rng: &mut R,
) -> Result<Vec<usize>, LinkError> {
    let counts = region_counts(n, shares)?;
    let mut out = Vec::with_capacity(n);
    for (region, &c) in counts.iter().enumerate() {
        out.resize(out.len() + c, region);
    }
    out.shuffle(rng);
    Ok(out)
}

/// The largest-remainder counts behind [`assign_regions`].
pub fn region_counts(n: usize, shares: &[f64]) -> Result<Vec<usize>, LinkError> {
    let bad = |reason: String| Err(LinkError::InvalidShares { reason });
    if shares.is_empty() {
        return bad("no region given".into());
    }
    for (i, &s) in shares.iter().enumerate() {
        if !(s.is_finite() && s >= 0.0) {
            return bad(format!("share {i} = {s} must be finite and at least 0"));
        }
    }
    let total: f64 = shares.iter().sum();
    if total <= 0.0 {
        return bad("the shares sum to 0".into());
    }
    let quotas: Vec<f64> = shares.iter().map(|s| n as f64 * s / total).collect();
    let mut counts: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Stable sort: equal remainders keep index order.
    order.sort_by(|&a, &b| {
        let ra = quotas[a] - quotas[a].floor();
        let rb = quotas[b] - quotas[b].floor();
        rb.total_cmp(&ra)
    });
    for &i in order.iter().take(n.saturating_sub(assigned)) {
        counts[i] += 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha12Rng;

    fn rng(seed: u64) -> ChaCha12Rng {
        ChaCha12Rng::seed_from_u64(seed)
    }

    fn mean_and_sd(model: &LatencyModel, draws: usize, seed: u64) -> (f64, f64) {
        let mut r = rng(seed);
        let xs: Vec<f64> = (0..draws)
            .map(|_| model.sample(&mut r).as_millis_f64())
            .collect();
        let mean = xs.iter().sum::<f64>() / draws as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn pareto_mean_matches() {
        // shape 5: sd = mean / sqrt(shape (shape - 2)) ≈ 0.258 mean, so the
        // standard error over 200k draws is ~0.06%; allow 1%.
        let m = LatencyModel::Pareto {
            mean_ms: 100.0,
            shape: 5.0,
        };
        m.validate().unwrap();
        let (mean, _) = mean_and_sd(&m, 200_000, 1);
        assert!((mean - 100.0).abs() < 1.0, "{mean}");
        // Every draw is at least the scale, mean * (shape - 1) / shape.
        let mut r = rng(2);
        assert!((0..10_000).all(|_| m.sample_ms(&mut r) >= 80.0));
    }

    /// A draw's value is what `sample` returns from the same stream, the
    /// stream ends in the same state, and the bounds bracket the value.
    #[test]
    fn a_draw_is_the_sample_and_its_bounds_bracket_it() {
        let models = [
            LatencyModel::Constant { ms: 40.0 },
            LatencyModel::Uniform {
                min_ms: 10.0,
                max_ms: 30.0,
            },
            LatencyModel::Normal {
                mean_ms: 50.0,
                sd_ms: 40.0,
            },
            LatencyModel::LogNormal {
                mean_ms: 50.0,
                sd_ms: 20.0,
            },
            LatencyModel::Pareto {
                mean_ms: 100.0,
                shape: 5.0,
            },
            // SimBlock's rule at its smallest and largest means: shapes 2.2
            // (wide bounds) and 65 (tight).
            LatencyModel::simblock(11.0),
            LatencyModel::simblock(325.0),
            // An infinite-mean shape: worked out at once.
            LatencyModel::Pareto {
                mean_ms: 100.0,
                shape: 0.5,
            },
        ];
        for (k, m) in models.iter().enumerate() {
            let (mut a, mut b) = (rng(k as u64), rng(k as u64));
            for _ in 0..20_000 {
                let d = m.draw(&mut a);
                let v = d.value();
                assert_eq!(v, m.sample(&mut b), "{m:?}");
                let (low, high) = d.bounds();
                assert!(low <= v && v <= high, "{m:?}: {low:?} {v:?} {high:?}");
                assert_below_agrees(&d, v, high);
            }
            assert_eq!(a.gen::<u64>(), b.gen::<u64>(), "{m:?}: streams apart");
        }
        // The extremes of U: 1 (the scale exactly) and the smallest draw.
        for u in [1.0, f64::EPSILON / 2.0] {
            let d = LatencyDraw(Drawn::Pareto {
                consts: ParetoDraws::new(11.0, 2.2),
                u,
            });
            let (low, high) = d.bounds();
            assert!(low <= d.value() && d.value() <= high, "u = {u}");
        }
    }

    /// `surely_below` is never wrong about a draw of value `v` (not below
    /// `v`, below `v + 1`), its lower bound is `bounds`' and it is sure a
    /// little above `bounds`' upper one, so it decides about as often.
    fn assert_below_agrees(d: &LatencyDraw, v: SimDuration, high: SimDuration) {
        assert_eq!(d.low(), d.bounds().0);
        assert!(!d.surely_below(v), "{d:?}: sure it is below {v:?}");
        assert!(!d.surely_below(SimDuration::ZERO));
        let above = high + SimDuration::from_nanos(high.as_nanos() / 1_000_000 + 2);
        assert!(d.surely_below(above), "{d:?}: not sure below {above:?}");
    }

    /// A region matrix's draws (from the Pareto constants it keeps per
    /// pair) take the same random numbers and give the same values as its
    /// models' `sample`, inside their bounds, for every pair of SimBlock's
    /// 2019 matrix and for a non-Pareto jitter.
    #[test]
    fn link_model_draws_match_its_models() {
        for jitter in [Jitter::Simblock, Jitter::Uniform { spread: 0.5 }] {
            let link = LinkModel::from_regions(&Regions::simblock_2019(), jitter).unwrap();
            let n = link.region_count();
            let (mut a, mut b) = (rng(9), rng(9));
            for k in 0..20_000 {
                let (from, to) = (k % n, (k / n) % n);
                let d = link.draw(from, to, &mut a);
                let v = d.value();
                assert_eq!(v, link.latency(from, to, &mut b), "{jitter:?} {from}->{to}");
                let (low, high) = d.bounds();
                assert!(
                    low <= v && v <= high,
                    "{from}->{to}: {low:?} {v:?} {high:?}"
                );
                assert_below_agrees(&d, v, high);
            }
            assert_eq!(a.gen::<u64>(), b.gen::<u64>(), "{jitter:?}: streams apart");
        }
    }

    #[test]
    fn simblock_pareto_matches_its_rule() {
        // SimBlock: shape = 0.2 * mean, scale = mean - 5.
        let m = LatencyModel::simblock(124.0);
        let LatencyModel::Pareto { mean_ms, shape } = m else {
            panic!("simblock() is a Pareto model")
        };
        assert!((shape - 24.8).abs() < 1e-12);
        assert!((mean_ms * (shape - 1.0) / shape - 119.0).abs() < 1e-9);
        let (mean, _) = mean_and_sd(&m, 100_000, 3);
        assert!((mean - 124.0).abs() < 0.5, "{mean}");
        let mut r = rng(4);
        assert!((0..10_000).all(|_| m.sample_ms(&mut r) >= 119.0));
    }

    #[test]
    fn other_models_have_their_moments() {
        let cases = [
            (LatencyModel::Constant { ms: 42.0 }, 42.0, 0.0),
            (
                LatencyModel::Uniform {
                    min_ms: 10.0,
                    max_ms: 30.0,
                },
                20.0,
                20.0 / 12f64.sqrt(),
            ),
            (
                LatencyModel::Normal {
                    mean_ms: 100.0,
                    sd_ms: 10.0,
                },
                100.0,
                10.0,
            ),
            (
                LatencyModel::LogNormal {
                    mean_ms: 100.0,
                    sd_ms: 30.0,
                },
                100.0,
                30.0,
            ),
        ];
        for (m, want_mean, want_sd) in cases {
            m.validate().unwrap();
            assert_eq!(m.mean_ms(), want_mean);
            let (mean, sd) = mean_and_sd(&m, 100_000, 5);
            assert!((mean - want_mean).abs() < 0.01 * want_mean, "{m:?}: {mean}");
            assert!((sd - want_sd).abs() < 0.03 * want_mean, "{m:?}: sd {sd}");
        }
        // Truncation: a normal straddling zero never goes negative.
        let m = LatencyModel::Normal {
            mean_ms: 1.0,
            sd_ms: 5.0,
        };
        let mut r = rng(6);
        assert!((0..10_000).all(|_| m.sample_ms(&mut r) >= 0.0));
    }

    #[test]
    fn invalid_models_are_rejected() {
        let bad = [
            LatencyModel::Constant { ms: -1.0 },
            LatencyModel::Constant { ms: f64::NAN },
            LatencyModel::Uniform {
                min_ms: 5.0,
                max_ms: 1.0,
            },
            LatencyModel::LogNormal {
                mean_ms: 0.0,
                sd_ms: 1.0,
            },
            LatencyModel::Pareto {
                mean_ms: 100.0,
                shape: 1.0,
            },
            LatencyModel::simblock(4.0),
        ];
        for m in bad {
            assert!(m.validate().is_err(), "{m:?}");
        }
    }

    #[test]
    fn latency_models_parse_from_yaml() {
        let m: LatencyModel = serde_yaml::from_str("{ kind: pareto, mean_ms: 120 }").unwrap();
        assert_eq!(
            m,
            LatencyModel::Pareto {
                mean_ms: 120.0,
                shape: DEFAULT_PARETO_SHAPE
            }
        );
        let m: LatencyModel = serde_yaml::from_str("{ kind: constant, ms: 100 }").unwrap();
        assert_eq!(m, LatencyModel::Constant { ms: 100.0 });
        assert!(serde_yaml::from_str::<LatencyModel>("{ kind: constant, msec: 100 }").is_err());
        let j: Jitter = serde_yaml::from_str("{ kind: simblock }").unwrap();
        assert_eq!(j, Jitter::Simblock);
    }

    #[test]
    fn transmission_delay_numbers() {
        // 1 MB block, NA uploader (19.2 Mbit/s) to EU downloader (40 Mbit/s):
        // 8e6 bits / 19.2e6 bit/s = 0.41666… s.
        let d = transmission_delay(1_000_000, 19.2e6, 40e6);
        assert_eq!(d.as_nanos(), 416_666_667);
        // Limited by the receiver: 250 bytes over 2 Mbit/s = 1 ms.
        assert_eq!(
            transmission_delay(250, 100e6, 2e6),
            SimDuration::from_millis(1)
        );
        assert_eq!(transmission_delay(0, 0.0, 0.0), SimDuration::ZERO);
        assert_eq!(transmission_delay(10, 0.0, 1e6), SimDuration::MAX);
        assert_eq!(
            transmission_delay(10, f64::INFINITY, f64::INFINITY),
            SimDuration::ZERO
        );
    }

    #[test]
    fn uplink_serialises_messages() {
        let mut up = Uplink::new();
        let t = |ms| SimTime::ZERO + SimDuration::from_millis(ms);
        let tx = SimDuration::from_millis(10);
        assert!(up.is_idle(t(0)));
        assert_eq!(up.enqueue(t(0), tx), (t(0), t(10)));
        // Handed over while busy: waits for the first.
        assert_eq!(up.enqueue(t(5), tx), (t(10), t(20)));
        assert!(!up.is_idle(t(15)));
        // Handed over after the link went idle: starts at once.
        assert_eq!(up.enqueue(t(50), tx), (t(50), t(60)));
        assert_eq!(up.busy_until, t(60));
    }

    #[test]
    fn simblock_region_model() {
        let regions = Regions::simblock_2019();
        regions.validate().unwrap();
        let sum: f64 = SIMBLOCK_2019_REGION_SHARES.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
        let link = LinkModel::from_regions(&regions, Jitter::Simblock).unwrap();
        assert_eq!(link.region_count(), 6);
        assert_eq!(link.model(EUROPE, JAPAN).mean_ms(), 252.0);
        assert_eq!(link.model(JAPAN, ASIA_PACIFIC).mean_ms(), 58.0);
        let mut r = rng(7);
        let n = 50_000;
        let mean = (0..n)
            .map(|_| {
                link.latency(NORTH_AMERICA, AUSTRALIA, &mut r)
                    .as_millis_f64()
            })
            .sum::<f64>()
            / n as f64;
        assert!((mean - 189.0).abs() < 1.0, "{mean}");
        // Bandwidth: min(NA upload 19.2, SA download 18) = 18 Mbit/s.
        assert_eq!(
            link.transmission(18_000_000 / 8, NORTH_AMERICA, SOUTH_AMERICA),
            SimDuration::from_secs(1)
        );
        assert!(link.check_region(6).is_err());
        let fixed = LinkModel::from_regions(&regions, Jitter::None).unwrap();
        assert_eq!(
            fixed.latency(EUROPE, EUROPE, &mut r),
            SimDuration::from_millis(11)
        );
    }

    #[test]
    fn region_validation() {
        let mut r = Regions::simblock_2019();
        r.latency_ms[2].pop();
        assert_eq!(
            r.validate(),
            Err(LinkError::NotSquare {
                regions: 6,
                row: 2,
                len: 5
            })
        );
        let mut r = Regions::simblock_2019();
        r.up_mbps[1] = 0.0;
        assert!(
            matches!(r.validate(), Err(LinkError::InvalidValue { field, .. }) if field == "up_mbps[1]")
        );
        let mut r = Regions::simblock_2019();
        r.down_mbps.pop();
        assert!(matches!(
            r.validate(),
            Err(LinkError::LengthMismatch {
                field: "down_mbps",
                ..
            })
        ));
        assert!(LinkModel::uniform(LatencyModel::Constant { ms: 5.0 }, 0.0, 1.0).is_err());
        // SimBlock's rule cannot handle a mean of 5 ms or less; the error
        // names the pair.
        let mut r = Regions::simblock_2019();
        r.latency_ms[4][4] = 4.0;
        assert!(matches!(
            LinkModel::from_regions(&r, Jitter::Simblock),
            Err(LinkError::RegionPair { from: 4, to: 4, .. })
        ));
        assert!(LinkModel::from_regions(&r, Jitter::LogNormal { cv: 0.2 }).is_ok());
    }

    #[test]
    fn regions_by_share() {
        let counts = region_counts(10_000, &SIMBLOCK_2019_REGION_SHARES).unwrap();
        assert_eq!(counts, vec![3316, 4998, 90, 1177, 224, 195]);
        // Largest remainder: 3 nodes over equal shares → 1 each; 4 → the
        // first region (lowest index) gets the extra one.
        assert_eq!(region_counts(3, &[1.0, 1.0, 1.0]).unwrap(), vec![1, 1, 1]);
        assert_eq!(region_counts(4, &[1.0, 1.0, 1.0]).unwrap(), vec![2, 1, 1]);
        assert_eq!(region_counts(7, &[0.5, 0.0, 0.5]).unwrap(), vec![4, 0, 3]);

        let a = assign_regions(1000, &SIMBLOCK_2019_REGION_SHARES, &mut rng(8)).unwrap();
        let b = assign_regions(1000, &SIMBLOCK_2019_REGION_SHARES, &mut rng(8)).unwrap();
        let c = assign_regions(1000, &SIMBLOCK_2019_REGION_SHARES, &mut rng(9)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut per_region = [0usize; 6];
        for &reg in &a {
            per_region[reg] += 1;
        }
        assert_eq!(
            per_region.to_vec(),
            region_counts(1000, &SIMBLOCK_2019_REGION_SHARES).unwrap()
        );
        assert!(assign_regions(5, &[], &mut rng(1)).is_err());
        assert!(assign_regions(5, &[0.0, 0.0], &mut rng(1)).is_err());
        assert!(assign_regions(5, &[1.0, -1.0], &mut rng(1)).is_err());
    }
}
