"""Closed forms for notebook 05_attacks, in plain Python.

The same formulas as `src/theory.rs` (which the test suite checks
the simulator against); see that file for the derivations and references.

- `eyal_sirer(alpha, gamma)`: a selfish pool's share of main-chain blocks
  (Eyal & Sirer, "Majority is not enough", FC 2014, eq. 8).
- `profit_threshold(gamma)`: the alpha above which it beats honest mining,
  (1 - gamma) / (3 - 2 gamma).
- `nakamoto(q, z)`: the whitepaper's Poisson approximation (Nakamoto 2008,
  section 11).
- `rosenfeld(q, z)`: the exact race with a pre-mined attacker block
  (Rosenfeld 2014), = I_{4pq}(z, 1/2) (Grunspan & Perez-Marco 2017).
- `race_success(q, z, give_up_behind=None, premine=0)`: the race as the
  simulator's attacker plays it: `premine` blocks mined before paying (0 by
  default; 1 is Rosenfeld's attacker), release once strictly longer after
  the merchant's z confirmations, give up when `give_up_behind` blocks
  behind (None: never). With premine=1 and no cutoff it equals
  `rosenfeld(q, z)`.
- `wilson(successes, trials)`: a 95% confidence interval for a proportion.
- `t975(df)`: Student's t quantile for a 95% confidence interval of a mean.
"""

from math import comb, exp, factorial, sqrt


def eyal_sirer(alpha: float, gamma: float) -> float:
    """Relative revenue R(alpha, gamma) of a selfish pool (1 for alpha >= 1/2)."""
    a = alpha
    if a >= 0.5:
        return 1.0
    num = a * (1 - a) ** 2 * (4 * a + gamma * (1 - 2 * a)) - a**3
    den = 1 - a * (1 + (2 - a) * a)
    return num / den


def profit_threshold(gamma: float) -> float:
    """The hashrate share above which selfish mining pays: (1-g)/(3-2g)."""
    return (1 - gamma) / (3 - 2 * gamma)


def nakamoto(q: float, z: int) -> float:
    """The whitepaper's AttackerSuccessProbability(q, z)."""
    p = 1 - q
    if q >= p:
        return 1.0
    lam = z * q / p
    total = 1.0
    for k in range(z + 1):
        total -= exp(-lam) * lam**k / factorial(k) * (1 - (q / p) ** (z - k))
    return total


def rosenfeld(q: float, z: int) -> float:
    """Exact success probability with one pre-mined block (Rosenfeld 2014)."""
    p = 1 - q
    if q >= p:
        return 1.0
    if z == 0:
        return 1.0
    return 1 - sum(comb(k + z - 1, k) * (p**z * q**k - q**z * p**k) for k in range(z + 1))


def _strictly_ahead(q: float, behind: int, give_up: int | None) -> float:
    """From `behind` blocks behind, probability of getting one block ahead
    before falling `give_up` behind (gambler's ruin)."""
    p = 1 - q
    x = behind + 1
    if give_up is None:
        return 1.0 if q >= p else (q / p) ** x
    if behind >= give_up:
        return 0.0
    if q == 0:
        return 0.0
    if p == 0:
        return 1.0
    n = give_up + 1
    rho = q / p
    if abs(rho - 1) < 1e-12:
        return 1 - x / n
    return (rho**x - rho**n) / (1 - rho**n)


def race_success(
    q: float, z: int, give_up_behind: int | None = None, premine: int = 0
) -> float:
    """The simulator's double spend: exact success probability.

    Public blocks h start at 0 and private blocks a at `premine` when the
    payment is broadcast; the attacker wins once h >= z and a > h, and
    gives up when h - a >= give_up_behind."""
    p = 1 - q
    g = give_up_behind
    if premine > z:
        return 1.0
    if z == 0:
        return _strictly_ahead(q, 0, g)
    # prob[h][a] for h < z, a <= z; a > z means a sure win.
    prob = [[0.0] * (z + 1) for _ in range(z)]
    prob[0][premine] = 1.0
    win = 0.0
    for h in range(z):
        for a in range(z + 1):
            w = prob[h][a]
            if w == 0:
                continue
            if a == z:
                win += w * q
            else:
                prob[h][a + 1] += w * q
            behind = h + 1 - a
            if g is not None and behind >= g:
                continue
            if h + 1 < z:
                prob[h + 1][a] += w * p
            else:
                win += w * p * _strictly_ahead(q, behind, g)
    return min(max(win, 0.0), 1.0)


def wilson(successes: int, trials: int, zq: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for successes/trials (95% by default)."""
    if trials == 0:
        return (float("nan"), float("nan"))
    ph = successes / trials
    z2 = zq * zq
    centre = (ph + z2 / (2 * trials)) / (1 + z2 / trials)
    half = zq * sqrt(ph * (1 - ph) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return (max(centre - half, 0.0), min(centre + half, 1.0))


# Two-sided 95% quantiles of Student's t for df = 1..30 (as in sim sweep's
# sweep_summary.csv, src/sweep/stats.rs); 1.96 beyond.
_T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
          2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
          2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df: int) -> float:
    """t_{0.975, df}: mean +- t975(n-1) * sd / sqrt(n) is a 95% interval."""
    if df < 1:
        return float("nan")
    return _T_975[df - 1] if df <= 30 else 1.96
