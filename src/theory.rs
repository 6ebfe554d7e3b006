//! Closed-form results from the literature that the simulator's adversaries
//! are validated against (`tests/adversary_theory.rs`) and that the theory
//! charts overlay (`crate::report::theory_charts`).
//!
//! Everything here is plain arithmetic on `f64`: no time, no network, no
//! randomness, and no imports from the rest of the crate (it sits at the
//! bottom of the layers, so the report can overlay it on charts). A
//! parameter outside a function's domain gives `NaN`, never a panic, so a
//! chart fed from a hand-edited CSV still draws.
//!
//! # Selfish mining
//!
//! [`selfish_relative_revenue`] is Eyal & Sirer's closed form for the share
//! of main-chain blocks a selfish pool with hashrate share `α` earns when a
//! share `γ` of the honest hashrate mines on the pool's block during a tie;
//! [`selfish_profit_threshold`] is the `α` above which that share exceeds
//! `α` (I. Eyal, E. G. Sirer, "Majority is not enough: Bitcoin mining is
//! vulnerable", Financial Cryptography 2014, section 4, eq. (8) and
//! Observation 1). The model assumes honest blocks reach every honest miner
//! at once (no natural forks) and a constant difficulty.
//!
//! # Double spending: the block race
//!
//! A merchant accepts a payment after `z` confirmations. From the moment the
//! payment is broadcast, an attacker with a share `q` of the hashrate mines
//! a private chain holding a conflicting transaction; honest miners (share
//! `p = 1 − q`) extend the public chain, whose first block holds the
//! payment. Each block found is the attacker's with probability `q`,
//! independently, so the number of attacker blocks found while the honest
//! network finds its `z` blocks is negative binomial. Three variants:
//!
//! - [`nakamoto_success`]: the Bitcoin whitepaper's approximation (S.
//!   Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System", 2008,
//!   section 11): the attacker's progress is Poisson with mean `z·q/p`, and
//!   from `k` blocks behind it catches up (reaches a tie) with probability
//!   `(q/p)^k`.
//! - [`rosenfeld_success`]: the exact negative-binomial version of the same
//!   model (M. Rosenfeld, "Analysis of hashrate-based double spending",
//!   arXiv:1402.2009, 2014, section 5), where the attacker has pre-mined
//!   one block, so a tie when the merchant accepts already wins:
//!   `P = 1 − Σ_{k=0}^{z} C(k+z−1, k)(p^z q^k − q^z p^k)`. C. Grunspan and
//!   R. Pérez-Marco ("Double spend races", arXiv:1702.02867, 2017,
//!   Theorem 1) showed it equals the regularized incomplete beta function
//!   `I_{4pq}(z, 1/2)` ([`incomplete_beta_half`]).
//! - [`race_success`] and [`race_success_with_cutoff`]: what the
//!   simulator's double-spend attacker does — no pre-mined block, the
//!   attacker releases its chain as soon as it is strictly longer than the
//!   public one *and* the merchant has seen `z` confirmations, and (with a
//!   cutoff) abandons the attempt as soon as the public chain leads by
//!   `give_up_behind` blocks. This is the figure the validation test uses.
//!   Without a cutoff it is Rosenfeld's sum with the catch-up exponent
//!   raised by one: `Σ_{k≤z} NB(k)·(q/p)^{z−k+1} + P(k > z)`; with a cutoff
//!   it is an exact finite Markov-chain computation that tends to the
//!   former as the cutoff grows.
//!
//! - [`premined_race_success`] and [`premined_race_success_with_cutoff`]:
//!   the simulator's attacker with `premine: 1` (Rosenfeld's model: it
//!   mines one private block before it pays, starting over if an honest
//!   block comes first). Without a cutoff this is [`rosenfeld_success`];
//!   with `premine: 0` it is the race above.
//!
//! Nakamoto's table is the Poisson approximation of Rosenfeld's model, not
//! of the no-premine race: both count a tie at acceptance as enough.
//!
//! For `q ≥ p` every infinite-horizon variant is 1: the attacker catches
//! up almost surely.
//!
//! # Natural forks
//!
//! [`analytic_stale_rate`] is the simple model `1 − e^(−d/T)` of the share
//! of blocks that go stale when blocks take `d` seconds to reach the
//! network and arrive every `T` seconds; sweeps write it beside the
//! measured stale rate.
//!
//! # Tolerances
//!
//! [`selfish_revenue_standard_error`] is the sampling error of a measured
//! relative revenue predicted by the same model (attack cycles are
//! independent: renewal-reward, see [`SelfishCycle`]); a double-spend
//! attempt is a Bernoulli trial, so [`proportion_standard_error`] applies.
//! [`ratio_standard_error`] (delta method over runs) and [`wilson_interval`]
//! turn measured counts into error bars.

/// Eyal & Sirer's relative revenue of a selfish-mining pool: its share of
/// main-chain blocks, for a hashrate share `alpha` and a tie-breaking share
/// `gamma` (the share of honest hashrate that mines on the pool's block when
/// two branches of equal length compete).
///
/// ```text
///         α(1−α)²(4α + γ(1−2α)) − α³
/// R = ─────────────────────────────────
///           1 − α(1 + (2 − α)α)
/// ```
///
/// (Eyal & Sirer 2014, eq. (8)). For `α ≥ 1/2` the pool's lead never ends
/// and the value is 1 (the formula itself reaches 1 at `α = 1/2`). `NaN`
/// unless `0 ≤ α ≤ 1` and `0 ≤ γ ≤ 1`.
pub fn selfish_relative_revenue(alpha: f64, gamma: f64) -> f64 {
    if !((0.0..=1.0).contains(&alpha) && (0.0..=1.0).contains(&gamma)) {
        return f64::NAN;
    }
    if alpha >= 0.5 {
        return 1.0;
    }
    let a = alpha;
    let num = a * (1.0 - a).powi(2) * (4.0 * a + gamma * (1.0 - 2.0 * a)) - a.powi(3);
    let den = 1.0 - a * (1.0 + (2.0 - a) * a);
    num / den
}

/// The hashrate share above which selfish mining pays more than honest
/// mining: `(1 − γ)/(3 − 2γ)` (Eyal & Sirer 2014, Observation 1): 1/3 for
/// `γ = 0`, 1/4 for `γ = 1/2`, 0 for `γ = 1`. Below it,
/// [`selfish_relative_revenue`] is less than `α`. `NaN` unless
/// `0 ≤ γ ≤ 1`.
pub fn selfish_profit_threshold(gamma: f64) -> f64 {
    if !(0.0..=1.0).contains(&gamma) {
        return f64::NAN;
    }
    (1.0 - gamma) / (3.0 - 2.0 * gamma)
}

/// Moments of one attack cycle of Eyal & Sirer's selfish miner: the
/// stretch from "no private block, no tie" back to that state. Cycles are
/// independent and identically distributed (renewal-reward), which gives
/// both the revenue and its sampling error.
///
/// A cycle is one of (with `a = α`, `b = 1 − α`):
/// - an honest block (probability `b`): the pool earns 0 of 1 main-chain
///   block;
/// - a pool block, then an honest one, then the tie is broken (`a·b`): by
///   the pool (`a`: 2 of 2), by honest miners on the pool's block (`b·γ`:
///   1 of 2), or on the honest block (`b·(1−γ)`: 0 of 2);
/// - two pool blocks in a row (`a²`): the pool's lead then walks up and
///   down until an honest block finds it at lead 2, and every one of its
///   `M = 2 + U` blocks ends on the main chain, no honest one does; `U`, the
///   up-steps of a first passage one level down, has mean `a/(1−2a)` and
///   variance `a·b/(1−2a)³`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelfishCycle {
    /// Expected main-chain blocks per cycle.
    pub main_blocks: f64,
    /// Expected pool blocks on the main chain per cycle.
    pub pool_blocks: f64,
    /// Expected blocks mined (main chain and stale) per cycle.
    pub mined_blocks: f64,
    /// `E[(A − R·N)²]` per cycle, where `A` and `N` are the pool's and all
    /// main-chain blocks of the cycle and `R = E[A]/E[N]`.
    pub residual_variance: f64,
}

impl SelfishCycle {
    /// The cycle moments for `0 ≤ α < 1/2`, `0 ≤ γ ≤ 1`; `None` otherwise
    /// (at `α ≥ 1/2` the lead never ends).
    pub fn of(alpha: f64, gamma: f64) -> Option<SelfishCycle> {
        if !((0.0..0.5).contains(&alpha) && (0.0..=1.0).contains(&gamma)) {
            return None;
        }
        let (a, b) = (alpha, 1.0 - alpha);
        let mean_u = a / (1.0 - 2.0 * a);
        let var_u = a * b / (1.0 - 2.0 * a).powi(3);
        let mean_m = 2.0 + mean_u;
        let mean_m2 = var_u + mean_m * mean_m;
        // (probability, pool blocks, main-chain blocks) of the short cycles.
        let short = [
            (b, 0.0, 1.0),
            (a * b * a, 2.0, 2.0),
            (a * b * b * gamma, 1.0, 2.0),
            (a * b * b * (1.0 - gamma), 0.0, 2.0),
        ];
        let run = a * a;
        let pool_blocks = short.iter().map(|(p, x, _)| p * x).sum::<f64>() + run * mean_m;
        let main_blocks = short.iter().map(|(p, _, n)| p * n).sum::<f64>() + run * mean_m;
        let r = pool_blocks / main_blocks;
        let residual_variance = short
            .iter()
            .map(|(p, x, n)| p * (x - r * n).powi(2))
            .sum::<f64>()
            + run * (1.0 - r).powi(2) * mean_m2;
        // Mined: 1; 3 (pool, honest, tie-breaker); M pool + U + 1 honest.
        let mined_blocks = b + a * b * 3.0 + run * (2.0 * mean_u + 3.0);
        Some(SelfishCycle {
            main_blocks,
            pool_blocks,
            mined_blocks,
            residual_variance,
        })
    }

    /// The pool's relative revenue `E[A]/E[N]`: equal to
    /// [`selfish_relative_revenue`] (a check of both).
    pub fn relative_revenue(&self) -> f64 {
        self.pool_blocks / self.main_blocks
    }
}

/// The standard error of a selfish pool's relative revenue measured over
/// `main_blocks` main-chain blocks (pooled over runs or from one long run):
/// by the renewal-reward central limit theorem and the delta method,
/// `SE² = E[(A − R·N)²] / (main_blocks · E[N])` with the cycle moments of
/// [`SelfishCycle`]. It is larger than the binomial
/// `sqrt(R(1−R)/main_blocks)` because a cycle's blocks go to the same side
/// together. `NaN` outside `0 ≤ α < 1/2`, `0 ≤ γ ≤ 1`, or for no blocks.
pub fn selfish_revenue_standard_error(alpha: f64, gamma: f64, main_blocks: f64) -> f64 {
    match SelfishCycle::of(alpha, gamma) {
        Some(c) if main_blocks > 0.0 => {
            (c.residual_variance / (main_blocks * c.main_blocks)).sqrt()
        }
        _ => f64::NAN,
    }
}

/// `p = 1 − q`, or `None` unless `0 ≤ q ≤ 1`.
fn honest_share(q: f64) -> Option<f64> {
    (0.0..=1.0).contains(&q).then_some(1.0 - q)
}

/// The whitepaper's probability that an attacker with hashrate share `q`
/// ever catches up from `z` blocks behind, with its progress approximated
/// as Poisson (Nakamoto 2008, section 11, the C function
/// `AttackerSuccessProbability`, transcribed):
///
/// ```text
/// λ = z·q/p,   P = 1 − Σ_{k=0}^{z} e^{−λ} λ^k / k! · (1 − (q/p)^{z−k})
/// ```
///
/// 1 for `q ≥ 1/2`; `NaN` unless `0 ≤ q ≤ 1`.
pub fn nakamoto_success(q: f64, z: u32) -> f64 {
    let Some(p) = honest_share(q) else {
        return f64::NAN;
    };
    if q >= p {
        return 1.0;
    }
    let lambda = z as f64 * (q / p);
    let mut sum = 1.0;
    let mut poisson = (-lambda).exp();
    for k in 0..=z {
        if k > 0 {
            poisson *= lambda / k as f64;
        }
        sum -= poisson * (1.0 - (q / p).powi((z - k) as i32));
    }
    sum
}

/// The negative-binomial weights `C(k+z−1, k)·p^z·q^k` and their mirror
/// images `C(k+z−1, k)·q^z·p^k` for `k = 0..=z`, built by recurrence (no
/// factorials, no overflow). For `z = 0` the single weight is 1
/// (`C(−1, 0) = 1`: the merchant accepts before any block).
fn negbin_terms(q: f64, p: f64, z: u32) -> impl Iterator<Item = (f64, f64)> {
    let (mut t, mut s) = (p.powi(z as i32), q.powi(z as i32));
    (0..=z).map(move |k| {
        let out = (t, s);
        let f = (k + z) as f64 / (k + 1) as f64;
        t *= q * f;
        s *= p * f;
        out
    })
}

/// `P(Binomial(2z, q) ≥ z + 1)`: the probability that the attacker has
/// found more than `z` blocks by the time the honest network finds its
/// `z`-th (then it is ahead whatever happens next). Summed term by term so
/// that small values keep their precision.
fn attacker_past_z(q: f64, p: f64, z: u32) -> f64 {
    if z == 0 {
        return 0.0;
    }
    let n = 2 * z;
    // C(n, j) q^j p^(n−j) for j = z+1..=n, via the ratio of successive terms.
    let mut term = binomial_pmf(n, z + 1, q, p);
    let mut sum = 0.0;
    for j in (z + 1)..=n {
        sum += term;
        term *= (n - j) as f64 / (j + 1) as f64 * (q / p);
    }
    sum
}

/// `C(n, j)·q^j·p^(n−j)`, in log space (`n` can be hundreds).
fn binomial_pmf(n: u32, j: u32, q: f64, p: f64) -> f64 {
    let ln_c: f64 = (1..=j)
        .map(|i| ((n - j + i) as f64).ln() - (i as f64).ln())
        .sum();
    (ln_c + j as f64 * q.ln() + (n - j) as f64 * p.ln()).exp()
}

/// Rosenfeld's exact probability that a double spend succeeds against a
/// merchant waiting for `z` confirmations, for an attacker with hashrate
/// share `q` that has pre-mined one block (so a tie when the merchant
/// accepts is enough):
///
/// ```text
/// P = 1 − Σ_{k=0}^{z} C(k+z−1, k) (p^z q^k − q^z p^k)
/// ```
///
/// (Rosenfeld 2014, section 5). Equal to `I_{4pq}(z, 1/2)`
/// ([`incomplete_beta_half`], Grunspan & Pérez-Marco 2017); computed here
/// as a sum of positive terms, `Σ_{k≤z} C(k+z−1, k) q^z p^k + P(k > z)`, so
/// that small probabilities keep their digits. 1 for `q ≥ 1/2`; `NaN`
/// unless `0 ≤ q ≤ 1`.
pub fn rosenfeld_success(q: f64, z: u32) -> f64 {
    let Some(p) = honest_share(q) else {
        return f64::NAN;
    };
    if q >= p {
        return 1.0;
    }
    // C(k+z−1,k) p^z q^k · (q/p)^(z−k) = C(k+z−1,k) q^z p^k.
    let caught_up: f64 = negbin_terms(q, p, z).map(|(_, s)| s).sum();
    (caught_up + attacker_past_z(q, p, z)).min(1.0)
}

/// The regularized incomplete beta function `I_x(n, 1/2)` for a positive
/// integer `n`, by the exact recurrence
/// `I_x(a+1, b) = I_x(a, b) − x^a (1−x)^b / (a·B(a, b))` from
/// `I_x(1, b) = 1 − (1−x)^b`, with `B(a+1, b) = B(a, b)·a/(a+b)` and
/// `B(1, b) = 1/b` (DLMF 8.17.20, 5.12.1). `I_x(0, 1/2) = 1`. `NaN` unless
/// `0 ≤ x ≤ 1`.
///
/// With `x = 4pq` it is Grunspan & Pérez-Marco's form of
/// [`rosenfeld_success`].
pub fn incomplete_beta_half(x: f64, n: u32) -> f64 {
    if !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if n == 0 {
        return 1.0;
    }
    let b = 0.5;
    let root = (1.0 - x).sqrt();
    let mut i = 1.0 - root;
    let mut beta = 1.0 / b;
    let mut x_pow = x; // x^a for a = 1
    for a in 1..n {
        let a = a as f64;
        i -= x_pow * root / (a * beta);
        beta *= a / (a + b);
        x_pow *= x;
    }
    i.clamp(0.0, 1.0)
}

/// The probability that a random walk that steps one block towards the
/// attacker with probability `p` and away with probability `q` ends with
/// the attacker strictly ahead: from `behind` blocks behind (0 = equal
/// length) it must gain `behind + 1`. Without a cutoff that is
/// `min(1, (q/p)^(behind+1))`; with `give_up = Some(g)` the attacker stops
/// when it is `g` behind (gambler's ruin with absorbing barriers at "one
/// ahead" and "`g` behind", `behind < g`).
fn strictly_ahead(q: f64, p: f64, behind: u32, give_up: Option<u32>) -> f64 {
    let x = behind as f64 + 1.0;
    let Some(g) = give_up else {
        return if q >= p { 1.0 } else { (q / p).powf(x) };
    };
    if behind >= g {
        return 0.0;
    }
    if p == 0.0 {
        return 1.0;
    }
    if q == 0.0 {
        return 0.0;
    }
    let n = g as f64 + 1.0;
    let rho = q / p;
    if (rho - 1.0).abs() < 1e-12 {
        return 1.0 - x / n;
    }
    if rho < 1.0 {
        (rho.powf(x) - rho.powf(n)) / (1.0 - rho.powf(n))
    } else {
        // Divide through by ρ^N so nothing overflows.
        let inv = 1.0 / rho;
        (inv.powf(n - x) - 1.0) / (inv.powf(n) - 1.0)
    }
}

/// The exact probability that the simulator's double spend succeeds with
/// no give-up cutoff: the attacker (hashrate share `q`) starts its private
/// chain when the payment is broadcast, the merchant accepts after `z`
/// public blocks, and the attacker wins once its chain is strictly longer
/// than the public one at or after that moment:
///
/// ```text
/// P = Σ_{k=0}^{z} C(k+z−1, k) p^z q^k · (q/p)^(z−k+1) + P(k > z)
///   = 1 − Σ_{k=0}^{z} C(k+z−1, k) (p^z q^k − q^(z+1) p^(k−1))
/// ```
///
/// Rosenfeld's formula ([`rosenfeld_success`]) without the pre-mined block
/// (one more block to gain); `P(k > z) = P(Binomial(2z, q) ≥ z+1)`. For
/// `z = 0` it is `q/p`. 1 for `q ≥ 1/2`; `NaN` unless `0 ≤ q ≤ 1`.
pub fn race_success(q: f64, z: u32) -> f64 {
    let Some(p) = honest_share(q) else {
        return f64::NAN;
    };
    if q >= p {
        return 1.0;
    }
    let rho = q / p;
    let behind: f64 = negbin_terms(q, p, z).map(|(_, s)| s * rho).sum();
    (behind + attacker_past_z(q, p, z)).min(1.0)
}

/// [`race_success`] with the simulator's give-up rule: the attacker
/// abandons the attempt as soon as the public chain is `give_up_behind`
/// blocks longer than its private chain (counted from the fork point),
/// before or after the merchant's `z` confirmations. `NaN` unless
/// `0 ≤ q ≤ 1` and `give_up_behind ≥ 1`.
///
/// Computed exactly. Before the merchant accepts, the state is the pair
/// (public blocks `h < z`, private blocks `a`); an attacker with more than
/// `z` blocks has won (it only waits for the `z`-th public block, and can
/// no longer fall behind), so `a ≤ z` and the chain is finite. When the
/// `z`-th public block arrives with the attacker `d = z − a` behind, the
/// rest is a gambler's ruin between "one ahead" and "`give_up_behind`
/// behind". As `give_up_behind → ∞` the result tends
/// to [`race_success`] (the ruin probability tends to `(q/p)^(d+1)` and the
/// early give-ups vanish).
pub fn race_success_with_cutoff(q: f64, z: u32, give_up_behind: u32) -> f64 {
    premined_race_success_with_cutoff(q, z, give_up_behind, 0)
}

/// The simulator's double spend with `premine` blocks mined privately
/// before the payment is broadcast (`premine: 1` is Rosenfeld's attacker;
/// `0` is [`race_success_with_cutoff`]), and no give-up cutoff: for
/// `premine = 1` this is [`rosenfeld_success`], for `0`
/// [`race_success`]. `NaN` for other `premine` values or `q` outside
/// `[0, 1]`.
pub fn premined_race_success(q: f64, z: u32, premine: u32) -> f64 {
    match premine {
        0 => race_success(q, z),
        1 => rosenfeld_success(q, z),
        _ => f64::NAN,
    }
}

/// [`race_success_with_cutoff`] for an attacker that starts the race
/// `premine` blocks ahead: it mines that many private blocks on the tip
/// before paying (starting over whenever an honest block comes first), so
/// when the payment is broadcast its private chain already leads by
/// `premine` (Rosenfeld's model has `premine = 1`). The give-up rule counts
/// those blocks too: the attacker abandons when the public chain leads the
/// whole private branch by `give_up_behind`. As `give_up_behind → ∞` the
/// result tends to [`premined_race_success`]. `NaN` unless `0 ≤ q ≤ 1` and
/// `give_up_behind ≥ 1`.
pub fn premined_race_success_with_cutoff(q: f64, z: u32, give_up_behind: u32, premine: u32) -> f64 {
    let Some(p) = honest_share(q) else {
        return f64::NAN;
    };
    if give_up_behind == 0 {
        return f64::NAN;
    }
    let g = give_up_behind;
    if premine > z {
        // Already strictly longer than anything the merchant can accept.
        return 1.0;
    }
    if z == 0 {
        return strictly_ahead(q, p, 0, Some(g));
    }
    let zu = z as usize;
    // prob[h][a]: probability of passing through (h public, a private)
    // while still racing, for h < z and a ≤ z.
    let mut prob = vec![vec![0.0f64; zu + 1]; zu];
    prob[0][premine as usize] = 1.0;
    let mut success = 0.0;
    for h in 0..zu {
        for a in 0..=zu {
            let w = prob[h][a];
            if w == 0.0 {
                continue;
            }
            // Attacker block.
            if a == zu {
                success += w * q;
            } else {
                prob[h][a + 1] += w * q;
            }
            // Public block: h + 1, the attacker falls one further behind.
            let behind = h as i64 + 1 - a as i64;
            if behind >= g as i64 {
                continue; // gives up
            }
            if h + 1 < zu {
                prob[h + 1][a] += w * p;
            } else {
                // The merchant accepts now; behind = z − a ≥ 0.
                success += w * p * strictly_ahead(q, p, behind as u32, Some(g));
            }
        }
    }
    success.clamp(0.0, 1.0)
}

/// Standard error of a proportion `share` estimated from `n` independent
/// trials: `sqrt(share·(1 − share)/n)`. Pass the measured share for an
/// error bar, or the predicted one for a test tolerance (then a measured
/// 0 of 0.0004 still gets a sensible tolerance). `NaN` for `n = 0` or a
/// share outside `[0, 1]`.
pub fn proportion_standard_error(share: f64, n: u64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&share) {
        return f64::NAN;
    }
    (share * (1.0 - share) / n as f64).sqrt()
}

/// Standard error of a ratio of sums `Σx / Σy` over independent pairs
/// `(x_i, y_i)` (for example per-run attacker blocks and main-chain
/// blocks), by the delta method:
///
/// ```text
/// R = x̄/ȳ,   SE(R)² ≈ (s_x² − 2R·s_xy + R²·s_y²) / (n·ȳ²)
/// ```
///
/// with sample (co)variances (divisor `n − 1`). This accounts for the
/// correlation between blocks within a run, which a binomial error of the
/// pooled count would ignore. `NaN` with fewer than two pairs, lengths
/// that differ, or `ȳ = 0`.
pub fn ratio_standard_error(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len();
    if n < 2 || ys.len() != n {
        return f64::NAN;
    }
    let nf = n as f64;
    let mx = xs.iter().sum::<f64>() / nf;
    let my = ys.iter().sum::<f64>() / nf;
    if my == 0.0 {
        return f64::NAN;
    }
    let r = mx / my;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    let d = nf - 1.0;
    let var = (sxx / d - 2.0 * r * sxy / d + r * r * syy / d) / (nf * my * my);
    var.max(0.0).sqrt()
}

/// The Wilson score interval for `successes` out of `trials` at normal
/// quantile `z_score` (1.96 for 95%): unlike `p̂ ± z·SE` it stays inside
/// `[0, 1]` and has a width when `p̂` is 0 or 1 (E. B. Wilson, "Probable
/// inference, the law of succession, and statistical inference", JASA
/// 1927). `(NaN, NaN)` for no trials or more successes than trials.
pub fn wilson_interval(successes: u64, trials: u64, z_score: f64) -> (f64, f64) {
    if trials == 0 || successes > trials || !z_score.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let n = trials as f64;
    let ph = successes as f64 / n;
    let z2 = z_score * z_score;
    let centre = (ph + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z_score * (ph * (1.0 - ph) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The simple stale-rate model `1 − e^(−d/T)` for a propagation delay of
/// `delay_s` seconds and an expected block interval of `interval_s` seconds
/// (the model is described in
/// [`crate::report::sweep_charts`], whose stale-rate chart overlays it). `NaN` unless both are finite and `interval_s > 0`.
pub fn analytic_stale_rate(delay_s: f64, interval_s: f64) -> f64 {
    if !(delay_s.is_finite() && interval_s.is_finite() && interval_s > 0.0) {
        return f64::NAN;
    }
    1.0 - (-delay_s.max(0.0) / interval_s).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha12Rng;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn eyal_sirer_published_values() {
        // Observation 1 and section 4 of Eyal & Sirer 2014: threshold 1/3
        // with γ = 0, 1/4 with γ = 1/2, 0 with γ = 1.
        assert!(close(selfish_profit_threshold(0.0), 1.0 / 3.0, 1e-15));
        assert!(close(selfish_profit_threshold(0.5), 0.25, 1e-15));
        assert_eq!(selfish_profit_threshold(1.0), 0.0);
        // At the threshold the pool earns exactly its share.
        assert!(close(
            selfish_relative_revenue(1.0 / 3.0, 0.0),
            1.0 / 3.0,
            1e-15
        ));
        assert!(close(selfish_relative_revenue(0.25, 0.5), 0.25, 1e-15));
        // Exact rationals: R(0.4, 0) = 0.1664/0.344 = 208/430.
        assert!(close(
            selfish_relative_revenue(0.4, 0.0),
            208.0 / 430.0,
            1e-15
        ));
        // α = 1/2 takes everything; α = 0 nothing.
        assert!(close(selfish_relative_revenue(0.5, 0.0), 1.0, 1e-15));
        assert_eq!(selfish_relative_revenue(0.7, 0.3), 1.0);
        assert_eq!(selfish_relative_revenue(0.0, 0.5), 0.0);
        assert!(selfish_relative_revenue(-0.1, 0.5).is_nan());
        assert!(selfish_relative_revenue(0.3, 1.5).is_nan());
        assert!(selfish_profit_threshold(f64::NAN).is_nan());
    }

    #[test]
    fn selfish_mining_pays_exactly_above_the_threshold() {
        for gamma in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let t = selfish_profit_threshold(gamma);
            for i in 1..100 {
                let alpha = i as f64 * 0.005; // up to 0.495
                let gain = selfish_relative_revenue(alpha, gamma) - alpha;
                if alpha < t - 1e-9 {
                    assert!(gain < 0.0, "α={alpha} γ={gamma}: {gain}");
                } else if alpha > t + 1e-9 {
                    assert!(gain > 0.0, "α={alpha} γ={gamma}: {gain}");
                }
            }
        }
    }

    /// Eyal & Sirer's state machine (section 4, Fig. 1) played block by
    /// block with a seeded generator: an independent check of the closed
    /// form's algebra.
    fn selfish_game(alpha: f64, gamma: f64, blocks: u64, seed: u64) -> f64 {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let (mut pool, mut honest) = (0u64, 0u64);
        let mut lead = 0u32; // private blocks not yet published
        let mut tie = false; // state 0': two public branches of length 1
        for _ in 0..blocks {
            let pool_found = rng.gen::<f64>() < alpha;
            if tie {
                if pool_found {
                    pool += 2;
                } else if rng.gen::<f64>() < gamma {
                    pool += 1;
                    honest += 1;
                } else {
                    honest += 2;
                }
                tie = false;
            } else if pool_found {
                lead += 1;
            } else {
                match lead {
                    0 => honest += 1,
                    1 => {
                        lead = 0;
                        tie = true;
                    }
                    2 => {
                        pool += 2;
                        lead = 0;
                    }
                    _ => {
                        pool += 1;
                        lead -= 1;
                    }
                }
            }
        }
        pool as f64 / (pool + honest) as f64
    }

    #[test]
    fn closed_form_matches_the_state_machine() {
        for (alpha, gamma) in [(0.2, 0.0), (0.3, 0.5), (0.4, 1.0), (0.45, 0.0)] {
            let r = selfish_game(alpha, gamma, 2_000_000, 7);
            let want = selfish_relative_revenue(alpha, gamma);
            assert!(close(r, want, 0.004), "α={alpha} γ={gamma}: {r} vs {want}");
        }
    }

    #[test]
    fn cycle_moments_reproduce_the_closed_form() {
        for gamma in [0.0, 0.3, 0.5, 1.0] {
            for i in 1..50 {
                let alpha = i as f64 * 0.0099;
                let c = SelfishCycle::of(alpha, gamma).unwrap();
                let r = selfish_relative_revenue(alpha, gamma);
                assert!(close(c.relative_revenue(), r, 1e-12), "α={alpha} γ={gamma}");
                assert!(c.mined_blocks >= c.main_blocks);
            }
        }
        assert!(SelfishCycle::of(0.5, 0.0).is_none());
        assert!(selfish_revenue_standard_error(0.3, 0.0, 0.0).is_nan());
    }

    #[test]
    fn revenue_standard_error_matches_the_spread_of_games() {
        // 300 games of 3,000 blocks each: the spread of their relative
        // revenues, against the predicted error for their main-chain length.
        for (alpha, gamma) in [(0.3, 0.0), (0.4, 0.5)] {
            let c = SelfishCycle::of(alpha, gamma).unwrap();
            let mined = 3_000u64;
            let main = mined as f64 * c.main_blocks / c.mined_blocks;
            let rs: Vec<f64> = (0..300)
                .map(|s| selfish_game(alpha, gamma, mined, 1_000 + s))
                .collect();
            let m = rs.iter().sum::<f64>() / rs.len() as f64;
            let sd = (rs.iter().map(|r| (r - m).powi(2)).sum::<f64>() / 299.0).sqrt();
            let se = selfish_revenue_standard_error(alpha, gamma, main);
            // The sample sd of 300 values is within ~±12% (3σ) of the truth.
            assert!(
                (sd / se - 1.0).abs() < 0.15,
                "α={alpha} γ={gamma}: {sd} vs {se}"
            );
        }
    }

    #[test]
    fn nakamoto_whitepaper_table() {
        // Bitcoin whitepaper, section 11, the two tables of results.
        let q01 = [
            1.0000000, 0.2045873, 0.0509779, 0.0131722, 0.0034552, 0.0009137, 0.0002428, 0.0000647,
            0.0000173, 0.0000046, 0.0000012,
        ];
        for (z, want) in q01.iter().enumerate() {
            let got = nakamoto_success(0.1, z as u32);
            assert!(close(got, *want, 5e-8), "q=0.1 z={z}: {got}");
        }
        let q03 = [
            (0, 1.0000000),
            (5, 0.1773523),
            (10, 0.0416605),
            (15, 0.0101008),
            (20, 0.0024804),
            (25, 0.0006132),
            (30, 0.0001522),
            (35, 0.0000379),
            (40, 0.0000095),
            (45, 0.0000024),
            (50, 0.0000006),
        ];
        for (z, want) in q03 {
            let got = nakamoto_success(0.3, z);
            assert!(close(got, want, 5e-8), "q=0.3 z={z}: {got}");
        }
        // "Solving for P less than 0.1%": the smallest such z per q.
        for (q, z) in [
            (0.10, 5),
            (0.15, 8),
            (0.20, 11),
            (0.25, 15),
            (0.30, 24),
            (0.35, 41),
            (0.40, 89),
            (0.45, 340),
        ] {
            assert!(nakamoto_success(q, z) < 0.001, "q={q} z={z}");
            assert!(nakamoto_success(q, z - 1) >= 0.001, "q={q} z={}", z - 1);
        }
        assert_eq!(nakamoto_success(0.5, 6), 1.0);
        assert!(nakamoto_success(1.5, 6).is_nan());
    }

    #[test]
    fn rosenfeld_equals_the_incomplete_beta_form() {
        for q in [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49] {
            let x = 4.0 * q * (1.0 - q);
            for z in 0..=60 {
                let a = rosenfeld_success(q, z);
                let b = incomplete_beta_half(x, z);
                assert!(close(a, b, 1e-12), "q={q} z={z}: {a} vs {b}");
            }
        }
        // Rosenfeld's textbook form, summed directly, for small z.
        for q in [0.1f64, 0.25, 0.4] {
            let p = 1.0 - q;
            for z in 1..=10u32 {
                let mut c = 1.0; // C(k+z−1, k)
                let mut sum = 0.0;
                for k in 0..=z {
                    if k > 0 {
                        c *= (k + z - 1) as f64 / k as f64;
                    }
                    sum += c
                        * (p.powi(z as i32) * q.powi(k as i32)
                            - q.powi(z as i32) * p.powi(k as i32));
                }
                assert!(
                    close(rosenfeld_success(q, z), 1.0 - sum, 1e-13),
                    "q={q} z={z}"
                );
            }
        }
        // Rosenfeld 2014's table: q = 10%, n = 6 confirmations → 0.0005914.
        assert!(close(rosenfeld_success(0.1, 6), 0.0005914, 5e-8));
        // z = 1: 2q (one block to match, the pre-mined block wins the tie).
        assert!(close(rosenfeld_success(0.1, 1), 0.2, 1e-15));
        assert_eq!(rosenfeld_success(0.5, 3), 1.0);
        assert_eq!(rosenfeld_success(0.3, 0), 1.0);
        assert!(incomplete_beta_half(1.5, 2).is_nan());
    }

    #[test]
    fn nakamoto_underestimates_the_exact_race() {
        // Rosenfeld's point: the Poisson approximation is optimistic for
        // the merchant; from a few confirmations on, the exact figure is
        // higher (at z = 1 the approximation is the larger one).
        for q in [0.1, 0.2, 0.3] {
            assert!(rosenfeld_success(q, 1) < nakamoto_success(q, 1), "q={q}");
            for z in 3..=12 {
                assert!(
                    rosenfeld_success(q, z) > nakamoto_success(q, z),
                    "q={q} z={z}"
                );
            }
        }
    }

    #[test]
    fn race_without_premining() {
        // z = 0: gain one block from a tie.
        assert!(close(race_success(0.2, 0), 0.25, 1e-15));
        // z = 1: no attacker block before the public one (p, then gain two:
        // (q/p)²), one (p·q, then gain one: q/p), two or more (q²).
        let (q, p) = (0.1, 0.9);
        assert!(close(race_success(q, 1), q * q / p + 2.0 * q * q, 1e-15));
        // Textbook sum form 1 − Σ C(k+z−1,k)(p^z q^k − q^(z+1) p^(k−1)).
        for q in [0.1f64, 0.3, 0.45] {
            let p = 1.0 - q;
            for z in 1..=15u32 {
                let mut c = 1.0;
                let mut sum = 0.0;
                for k in 0..=z {
                    if k > 0 {
                        c *= (k + z - 1) as f64 / k as f64;
                    }
                    sum += c
                        * (p.powi(z as i32) * q.powi(k as i32)
                            - q.powi(z as i32 + 1) * p.powi(k as i32 - 1));
                }
                assert!(close(race_success(q, z), 1.0 - sum, 1e-12), "q={q} z={z}");
                // One more block to gain than Rosenfeld's attacker.
                assert!(race_success(q, z) < rosenfeld_success(q, z));
            }
        }
        assert_eq!(race_success(0.6, 2), 1.0);
        assert!(race_success(-0.1, 2).is_nan());
    }

    /// Rosenfeld's model (one pre-mined block) in the layout of the
    /// whitepaper's tables, q = 0.1 for z = 0..=10 and q = 0.3 for
    /// z = 0, 5, …, 50, to 7 decimals. Each value is the closed form
    /// checked three independent ways above (textbook sum, positive-term
    /// sum, `I_{4pq}(z, 1/2)`); the q = 0.1, z = 6 entry, 0.0005914, is the
    /// one Rosenfeld 2014 prints.
    const ROSENFELD_Q01: [f64; 11] = [
        1.0000000, 0.2000000, 0.0560000, 0.0171200, 0.0054560, 0.0017818, 0.0005914, 0.0001986,
        0.0000672, 0.0000229, 0.0000079,
    ];
    const ROSENFELD_Q03: [(u32, f64); 11] = [
        (0, 1.0000000),
        (5, 0.1976173),
        (10, 0.0651067),
        (15, 0.0233077),
        (20, 0.0086739),
        (25, 0.0033027),
        (30, 0.0012769),
        (35, 0.0004991),
        (40, 0.0001967),
        (45, 0.0000780),
        (50, 0.0000311),
    ];

    #[test]
    fn premined_race_reproduces_both_tables() {
        for (z, want) in ROSENFELD_Q01.iter().enumerate() {
            let got = premined_race_success(0.1, z as u32, 1);
            assert!(close(got, *want, 5e-8), "q=0.1 z={z}: {got}");
            // The simulator's attacker with a far cutoff plays the same race.
            let sim = premined_race_success_with_cutoff(0.1, z as u32, 400, 1);
            assert!(close(sim, got, 1e-12), "q=0.1 z={z}: {sim}");
        }
        for (z, want) in ROSENFELD_Q03 {
            let got = premined_race_success(0.3, z, 1);
            assert!(close(got, want, 5e-8), "q=0.3 z={z}: {got}");
            let sim = premined_race_success_with_cutoff(0.3, z, 1_000, 1);
            assert!(close(sim, got, 1e-9), "q=0.3 z={z}: {sim} vs {got}");
        }
        // Without the pre-mined block the race is harder (one more block).
        for z in 1..=10 {
            assert!(premined_race_success(0.1, z, 0) < ROSENFELD_Q01[z as usize]);
            assert_eq!(premined_race_success(0.1, z, 0), race_success(0.1, z));
        }
        assert!(premined_race_success(0.1, 3, 2).is_nan());
    }

    #[test]
    fn premined_cutoff_is_exact_on_small_cases() {
        let (q, p) = (0.3f64, 0.7f64);
        // z = 1, premine 1, give up 1 behind: the payment block comes
        // first with p (tie 1–1, not yet "behind"; then from a tie the
        // attacker must go one ahead before falling one behind: q), or the
        // attacker's second block first (q: already strictly longer once
        // the merchant's block lands).
        let want = q + p * q;
        let got = premined_race_success_with_cutoff(q, 1, 1, 1);
        assert!(close(got, want, 1e-15), "{got} vs {want}");
        // More cutoff room never hurts; premine 0 is the old function.
        for z in 1..=6 {
            for g in 1..=8 {
                let a = premined_race_success_with_cutoff(q, z, g, 1);
                let b = premined_race_success_with_cutoff(q, z, g + 1, 1);
                assert!(a <= b + 1e-15, "z={z} g={g}");
                assert!(a > race_success_with_cutoff(q, z, g), "z={z} g={g}");
                assert_eq!(
                    premined_race_success_with_cutoff(q, z, g, 0),
                    race_success_with_cutoff(q, z, g)
                );
            }
        }
        assert!(premined_race_success_with_cutoff(q, 2, 0, 1).is_nan());
    }

    #[test]
    fn cutoff_tends_to_the_infinite_race() {
        for q in [0.1, 0.25, 0.4] {
            for z in 0..=8 {
                let inf = race_success(q, z);
                let far = race_success_with_cutoff(q, z, 400);
                assert!(close(far, inf, 1e-12), "q={q} z={z}: {far} vs {inf}");
                let mut last = 0.0;
                for g in 1..=30 {
                    let v = race_success_with_cutoff(q, z, g);
                    assert!(v >= last - 1e-15 && v <= inf + 1e-15, "q={q} z={z} g={g}");
                    last = v;
                }
            }
        }
        // With q ≥ p the infinite race always wins; a cutoff does not.
        assert_eq!(race_success(0.5, 3), 1.0);
        let v = race_success_with_cutoff(0.5, 3, 6);
        assert!(v > 0.3 && v < 1.0, "{v}");
        assert!(race_success_with_cutoff(0.3, 2, 0).is_nan());
        // Honest hashrate only: never; attacker only: always.
        assert_eq!(race_success_with_cutoff(0.0, 3, 6), 0.0);
        assert_eq!(race_success_with_cutoff(1.0, 3, 6), 1.0);
    }

    /// The race played block by block, as the simulator's attacker plays
    /// it: public `h`, private `a`; released when `h ≥ z` and `a > h`;
    /// abandoned when `h − a ≥ g`.
    fn race_game(q: f64, z: u32, g: u32, trials: u32, seed: u64) -> f64 {
        let mut rng = ChaCha12Rng::seed_from_u64(seed);
        let mut wins = 0u32;
        for _ in 0..trials {
            let (mut h, mut a) = (0u32, 0u32);
            loop {
                if h >= z && a > h {
                    wins += 1;
                    break;
                }
                if h >= a + g {
                    break;
                }
                if rng.gen::<f64>() < q {
                    a += 1;
                } else {
                    h += 1;
                }
            }
        }
        wins as f64 / trials as f64
    }

    #[test]
    fn cutoff_matches_a_monte_carlo_race() {
        let n = 200_000;
        for (i, (q, z, g)) in [
            (0.1, 1, 6),
            (0.3, 2, 6),
            (0.3, 4, 3),
            (0.45, 3, 10),
            (0.25, 0, 2),
        ]
        .into_iter()
        .enumerate()
        {
            let want = race_success_with_cutoff(q, z, g);
            let got = race_game(q, z, g, n, 100 + i as u64);
            let tol = 4.5 * proportion_standard_error(want, n as u64);
            assert!(
                close(got, want, tol),
                "q={q} z={z} g={g}: {got} vs {want} ± {tol}"
            );
        }
    }

    #[test]
    fn standard_errors() {
        assert!(close(proportion_standard_error(0.5, 100), 0.05, 1e-15));
        assert_eq!(proportion_standard_error(0.0, 10), 0.0);
        assert!(proportion_standard_error(0.5, 0).is_nan());
        assert!(proportion_standard_error(1.5, 10).is_nan());

        // Constant ratio: no error.
        assert_eq!(
            ratio_standard_error(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]),
            0.0
        );
        // y constant: the error of x̄/y, i.e. s_x/(√n·y).
        let se = ratio_standard_error(&[1.0, 3.0], &[4.0, 4.0]);
        assert!(close(se, 2f64.sqrt() / (2f64.sqrt() * 4.0), 1e-15), "{se}");
        assert!(ratio_standard_error(&[1.0], &[2.0]).is_nan());
        assert!(ratio_standard_error(&[1.0, 2.0], &[0.0, 0.0]).is_nan());

        // Wilson: 0 of 10 at 95% → [0, 0.2775] (Wilson 1927; the upper end
        // is z²/(n + z²)).
        let (lo, hi) = wilson_interval(0, 10, 1.96);
        assert_eq!(lo, 0.0);
        assert!(
            close(hi, 1.96f64.powi(2) / (10.0 + 1.96f64.powi(2)), 1e-12),
            "{hi}"
        );
        let (lo, hi) = wilson_interval(50, 100, 1.96);
        assert!(lo < 0.5 && hi > 0.5 && close(0.5 - lo, hi - 0.5, 1e-12));
        assert!(wilson_interval(3, 2, 1.96).0.is_nan());
    }

    #[test]
    fn stale_rate_model_values() {
        assert_eq!(analytic_stale_rate(0.0, 10.0), 0.0);
        let v = analytic_stale_rate(1.0, 10.0);
        assert!((v - (1.0 - (-0.1f64).exp())).abs() < 1e-12);
        // Small d/T: about d/T.
        assert!((analytic_stale_rate(0.01, 600.0) - 0.01 / 600.0).abs() < 1e-9);
        assert!(analytic_stale_rate(1.0, 0.0).is_nan());
        assert!(analytic_stale_rate(f64::NAN, 1.0).is_nan());
    }
}
