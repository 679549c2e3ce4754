"""Stage 3: grid-based greedy gait-cycle detection (GGGD, Zhao & Zhou 2017, Algorithm 1)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

__all__ = [
    "DEVIATIONS",
    "CycleMatch",
    "GaitDetectionParams",
    "cycle_bounds",
    "detect_cycle_starts",
    "detect_peaks_baseline",
    "estimate_gait_period",
    "match_cycle_starts",
    "overlap_windows",
    "u_shape_scores",
]


@dataclass(frozen=True)
class GaitDetectionParams:
    """Parameters of the gait-period estimate and of GGGD (RECONSTRUCTION 1.2-1.3).

    The paper states the structure of the algorithm; every number below is our
    reconstruction (the paper's values were lost), tuned on real walks as described in
    RECONSTRUCTION 1.3. Fields marked "Paper deviation" are our changes to the algorithm; they are
    on by default (:meth:`updated`), and :meth:`paper` switches them all off.

    Examples
    --------
    >>> params = GaitDetectionParams.updated()
    >>> params.segment_threshold_m_s2, params.distance_penalty, params.buffer_s
    (5.0, 0.5, 8.0)
    >>> GaitDetectionParams.paper().landmark_consensus  # Algorithm 1 without our deviations
    False
    >>> params.kappa_at(100.0)  # kappa is per sample: halve it when the rate doubles
    0.05
    """

    # Reconstruction: kappa scales the time step when a monotone segment is measured as a 2-D
    # curve; 0.1 per sample at 50 Hz (results flat over 0-0.5).
    kappa_per_sample: float = 0.1
    # Rate (Hz) at which kappa_per_sample holds; at rate f kappa is rescaled by this / f.
    kappa_reference_rate_hz: float = 50.0
    # Reconstruction: L_T, monotone segments with a curve length below this (in a_M units,
    # m/s^2) are omitted from U-shapes. The one parameter that matters: 4-6 fine, 0-1 ruinous.
    segment_threshold_m_s2: float = 5.0
    # Reconstruction: lambda, weight of the stage-2 distance penalty (0.25-2 equivalent).
    distance_penalty: float = 0.5
    # Reconstruction: stage-1 search radius as a fraction of the period g (paper: g/2).
    stage1_radius_fraction: float = 0.5
    # Stage-2 search radius as a fraction of g (paper: g/4).
    stage2_radius_fraction: float = 0.25
    # Reconstruction: stage 1 stops when b and c both move less than this many samples ...
    convergence_tol_samples: float = 0.5
    # ... or after this many iterations.
    max_iterations: int = 20
    # Buffer length (s); the paper requires N / f >= 4 s, we use 8 s.
    buffer_s: float = 8.0
    # Reconstruction: a new buffer starts every hop_s seconds (50% overlap).
    hop_s: float = 4.0
    # Reconstruction: recordings shorter than this (s) give no cycles: the autocorrelation
    # needs two of the longest strides. (Paper: N / f >= 4 s; OU-ISIR probes can be shorter.)
    min_buffer_s: float = 3.2
    # Reconstruction: shortest stride (= gait cycle = two steps) lag searched in the
    # autocorrelation (s) ...
    min_stride_s: float = 0.7
    # ... and the longest.
    max_stride_s: float = 1.6
    # Reconstruction: the step peak is sought at lags from this fraction of a stride lag L ...
    step_lag_fraction_min: float = 0.45
    # ... to this one.
    step_lag_fraction_max: float = 0.55
    # Paper deviation: a buffer whose period differs by more than this fraction from the
    # median period of the period_median_buffers buffers around it is re-estimated with the
    # lag searched only within this fraction of that median. A walker's cadence changes
    # slowly, but 8 s of a multi-peaked pocket signal (about six strides) can make a 2/3- or
    # 1/2-stride lag win, and a wrong g puts the grid on the wrong strides. (One
    # autocorrelation over the whole recording is no reference: it blurs when the cadence
    # drifts.) None = every buffer on its own.
    period_tolerance_fraction: float | None = 0.25
    # Buffers in that running median (odd; 9 buffers = 40 s at the default hop).
    period_median_buffers: int = 9
    # Paper deviation: only autocorrelation peaks at least this fraction of the highest peak
    # in the lag range compete under the stride + step rule. A stride is a lag at which the
    # whole waveform repeats, so its R(L) is near the top; the step bonus is there to choose
    # between the stride and the three-step lag, not to let a much weaker lag win. A thigh
    # pocket a_M with a strong third stride harmonic otherwise scores 2/3 of a stride (R(2T/3)
    # + R(T/3)) above the stride itself. A lag whose step (0.45-0.55 L) is the top peak
    # also competes: for a slow walker the step lag is in range and can be the top peak, and
    # R of the stride then decays below it. None = every local maximum competes (RECONSTRUCTION).
    period_min_relative_acf: float | None = 0.8
    # Reconstruction: starts of one recording closer than this fraction of g are duplicates.
    duplicate_fraction: float = 0.5
    # Reconstruction: drop grid points with no candidate within the stage-1 radius (rest,
    # turns) instead of emitting an unsupported start; the paper assumes pure walking.
    drop_unsupported: bool = True
    # Paper deviation (opt-in): choose b_0 among the candidates in the first g samples by the
    # total score its grid b_0 + k g collects (best candidate within g/4 of each point) rather
    # than by its own score, which the recording's edge truncates. False = RECONSTRUCTION rule.
    initial_by_grid_score: bool = False
    # Paper deviation: before scoring, a_M is rescaled so that its spread (standard deviation
    # over a buffer-long window centred on each sample) equals this value (m/s^2); L_T and
    # kappa are absolute, so without it the same gait scores differently for a stiff or a
    # loose sensor mount, a light or a heavy step (measured spreads of walking a_M vary 3x
    # between subjects and placements). At this spread L_T = 5 applies unchanged. None = off.
    amplitude_reference_m_s2: float | None = 3.0
    # Largest gain of that rescaling, so that rest and sensor noise are not blown up into
    # U-shapes.
    max_amplitude_gain: float = 3.0
    # Paper deviation: after the stage-1 least-squares fit, refit without the matches farther
    # than this fraction of g from the fitted line (one pass). None = plain least squares.
    refit_trim_fraction: float | None = 0.125
    # Paper deviation: seed a buffer's grid from the previous buffer's stage-1 grid line
    # (extended into the overlap) instead of from one of its stage-2 starts. False = seed
    # from the previous buffer's first start inside this one.
    seed_from_grid: bool = True

    # Paper deviation: choose each buffer's initial grid phase b_0 jointly over the recording:
    # the phases maximise the total their grids b_0 + k g collect from the candidates (see
    # phase_by_height), normalised per buffer, minus phase_switch_cost for each phase jump
    # between consecutive buffers (dynamic programming; see _phase_path). The phase then
    # replaces the seed. False = RECONSTRUCTION rule (best candidate in the first g samples,
    # later buffers seeded).
    phase_by_grid_score: bool = True
    # Half-width, as a fraction of g, of the window in which a grid point collects a score
    # (triangular weight), and the phase change between buffers that costs nothing.
    phase_window_fraction: float = 0.125
    # Paper deviation: in that phase choice a candidate collects its height (normalised a_M
    # above the buffer mean) rather than its U-shape score: tau measures the valley before a
    # peak, and another step's rounded peak often outscores the sharp heel-strike impact,
    # which is the largest, best-timed a_M event of a stride. False = collect tau.
    phase_by_height: bool = True
    # Cost of a phase jump, in units of one buffer's best normalised total score.
    phase_switch_cost: float = 3.0
    # Paper deviation: move each stage-2 start to the largest a_M within this fraction of g,
    # so the landmark is a sharp point rather than wherever the best-scoring candidate sits on
    # a flat or multi-peaked top (see _refine_to_local_max). None = off.
    refine_fraction: float | None = 0.25
    # Paper deviation: after GGGD, re-align every start to the recording's own stride template
    # (the mean of its normalised strides; one recording = one walker, one sensor placement)
    # by normalised cross-correlation over up to half a stride either way, the shifts chosen
    # jointly by dynamic programming so that the landmark stays the same point of the gait
    # cycle from stride to stride (see _consensus_landmarks); then every start moves by the
    # same offset to the template's highest point. A loose phone in a pocket on the swinging
    # thigh makes a_M multi-peaked: several peaks of similar height and U-shape per stride,
    # whose order changes from stride to stride, so any single-peak score (tau, height) jumps
    # between them by more than 0.1 s, while the shape of the whole stride stays the same.
    # GGGD's grid still decides how many strides there are and roughly where. False = off.
    landmark_consensus: bool = True
    # Template / re-alignment passes (the template is rebuilt from the aligned strides).
    consensus_iterations: int = 3
    # Cost of moving the landmark to another point of the stride between consecutive starts,
    # in units of one stride's correlation (at most 1): a change must be supported by the
    # shape of about two strides. Shifts that undo a landmark switch of GGGD cost nothing.
    consensus_switch_cost: float = 1.0
    # Deviation of a start-to-start step from a whole number of periods at which that cost is
    # reached (quadratic ramp from 0), as a fraction of g: ordinary stride-time variability
    # (a few %) costs little.
    consensus_tolerance_fraction: float = 0.25
    # Paper deviation: where consecutive starts are 2 .. gap_fill_max_strides periods apart
    # (a stride GGGD dropped for lack of a candidate, or two starts merged by the
    # re-alignment), insert equally spaced starts, each moved to the best template match
    # within g/8 and kept if that normalised correlation is at least this value. A step that
    # lacks the peak GGGD scores is still a step; rest and turns do not match the template.
    # Only gaps whose two bounding starts reach this correlation too are filled. None = off.
    gap_fill_min_correlation: float | None = 0.5
    # Longest gap (in periods) that is filled; longer gaps are pauses, not missed strides.
    gap_fill_max_strides: int = 4

    @classmethod
    def paper(cls) -> GaitDetectionParams:
        """Algorithm 1 as reconstructed (RECONSTRUCTION 1.3) with every deviation switched off.

        Our deviations (:data:`DEVIATIONS`) make GGGD beat a plain peak picker on pocket walks
        (``docs/cycle-detection/``); :meth:`updated` - the default of every pipeline preset -
        keeps them. This preset is the algorithm as the paper describes it, for comparison.
        """
        return cls(**DEVIATIONS)

    @classmethod
    def updated(cls) -> GaitDetectionParams:
        """Algorithm 1 with our documented deviations (the defaults; every preset uses these)."""
        return cls()

    def kappa_at(self, sampling_rate_hz: float) -> float:
        """Return kappa per sample at ``sampling_rate_hz``.

        Parameters
        ----------
        sampling_rate_hz : float
            Sampling rate of the signal.

        Returns
        -------
        kappa : float
            ``kappa_per_sample * kappa_reference_rate_hz / sampling_rate_hz``.
        """
        return self.kappa_per_sample * self.kappa_reference_rate_hz / float(sampling_rate_hz)

    def replace(self, **changes) -> GaitDetectionParams:
        """Return a copy with some fields changed (the dataclass is frozen)."""
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------------------------
# period


#: The value of every ``Paper deviation`` field of :class:`GaitDetectionParams` that restores
#: RECONSTRUCTION 1.3's rule (used by :meth:`GaitDetectionParams.paper`).
DEVIATIONS = {
    "period_tolerance_fraction": None,
    "period_min_relative_acf": None,
    "initial_by_grid_score": False,
    "amplitude_reference_m_s2": None,
    "refit_trim_fraction": None,
    "seed_from_grid": False,
    "phase_by_grid_score": False,
    "phase_by_height": False,
    "refine_fraction": None,
    "landmark_consensus": False,
    "gap_fill_min_correlation": None,
}


def estimate_gait_period(
    acc_magnitude, sampling_rate_hz: float, params: GaitDetectionParams | None = None
) -> float:
    """Estimate the gait period g (one stride = two steps) from the circular autocorrelation.

    Parameters
    ----------
    acc_magnitude : array_like of float, shape (n_timepoints,)
        Acceleration magnitude a_M = |a| (m/s^2) of one buffer.
    sampling_rate_hz : float
        Sampling rate of ``acc_magnitude``.
    params : GaitDetectionParams, optional
        Lag range and step-lag fractions; defaults to :meth:`GaitDetectionParams.paper`.

    Returns
    -------
    period_samples : float
        The stride period in samples (sub-sample, by parabolic interpolation of the
        autocorrelation peak).

    Raises
    ------
    ValueError
        If the signal is not 1-D and finite, or too short to contain the longest stride lag.

    Notes
    -----
    Reconstruction (RECONSTRUCTION 1.2): R(L) = sum_t a'(t) a'((t + L) mod N) of the mean-removed
    a_M. Among local maxima of R at lags 0.7-1.6 s, take the one maximising
    R(L) + max R(0.45 L .. 0.55 L): the stride peak plus its step peak. Taking the highest
    peak alone picks the three-step lag in ~6% of real waist walks. If R has no local maximum
    in the range, the lag of its largest value there is used. Limitation of the rule: for a
    strictly periodic signal with strides shorter than 0.8 s both L and 2L are in range and
    R(2L) + R(L) beats R(L) + R(L/2), so the double stride is returned; real walks decorrelate
    enough over two strides for this to be rare at ordinary cadences.

    Examples
    --------
    >>> t_s = np.arange(400) / 50.0
    >>> a_m = 9.81 + np.cos(2 * np.pi * 1.0 * t_s) + 2 * np.cos(2 * np.pi * 2.0 * t_s)
    >>> round(estimate_gait_period(a_m, 50.0), 1)
    50.0
    """
    params = GaitDetectionParams.updated() if params is None else params
    signal = _as_signal(acc_magnitude, "acc_magnitude")
    fs = _check_rate(sampling_rate_hz)
    max_lag = round(params.max_stride_s * fs)
    if signal.size < max_lag + 2:
        raise ValueError(
            f"acc_magnitude needs more than {max_lag + 1} samples ({params.max_stride_s} s) to "
            f"estimate a stride period; received {signal.size}"
        )
    return float(_periods_from_buffers(signal[None, :], fs, params)[0])


def _periods_from_buffers(buffers, fs, params, around=None):
    """Stride period (samples) of each row of ``buffers`` (n_buffers, n_samples).

    ``around`` (samples), if given, narrows the lag range to within
    ``period_tolerance_fraction`` of it (kept inside the stride range).
    """
    centred = buffers - buffers.mean(axis=1, keepdims=True)
    n = buffers.shape[1]
    spectrum = np.fft.rfft(centred, n=n, axis=1)
    acf = np.fft.irfft(spectrum * spectrum.conj(), n=n, axis=1)  # circular autocorrelation
    lo = max(2, round(params.min_stride_s * fs))
    hi = min(n - 2, round(params.max_stride_s * fs))
    if around is not None:
        near_lo = max(lo, int(np.floor(around * (1 - params.period_tolerance_fraction))))
        near_hi = min(hi, int(np.ceil(around * (1 + params.period_tolerance_fraction))))
        if near_hi - near_lo >= 2:
            lo, hi = near_lo, near_hi
    lags = np.arange(lo, hi + 1)
    inside = acf[:, lags]
    is_peak = (inside > acf[:, lags - 1]) & (inside >= acf[:, lags + 1])
    # Step peak: max R over lags 0.45 L .. 0.55 L, via a running maximum over a small table.
    step_lo = np.floor(params.step_lag_fraction_min * lags).astype(int)
    step_hi = np.ceil(params.step_lag_fraction_max * lags).astype(int)
    width = int((step_hi - step_lo).max()) + 1
    offsets = np.arange(width)
    step_idx = np.minimum(step_lo[:, None] + offsets[None, :], step_hi[:, None])
    step_peak = acf[:, step_idx].max(axis=2)  # (n_buffers, n_lags)
    score = inside + step_peak
    if params.period_min_relative_acf is not None:
        # Paper deviation (see period_min_relative_acf): only near-top peaks compete, and
        # the lags whose step range holds the top peak (the top peak is their step).
        peak_r = np.where(is_peak, inside, -np.inf)
        top_idx = np.argmax(peak_r, axis=1)
        top = peak_r[np.arange(peak_r.shape[0]), top_idx][:, None]
        top_lag = lags[top_idx][:, None]
        top_is_step = (step_lo[None, :] <= top_lag) & (top_lag <= step_hi[None, :])
        is_peak = is_peak & ((inside >= params.period_min_relative_acf * top) | top_is_step)
    score = np.where(is_peak, score, -np.inf)
    no_peak = ~is_peak.any(axis=1)
    best = np.argmax(score, axis=1)
    best[no_peak] = np.argmax(inside[no_peak], axis=1)
    lag = lags[best]
    # Parabolic refinement of the autocorrelation peak to sub-sample precision.
    rows = np.arange(buffers.shape[0])
    left, mid, right = acf[rows, lag - 1], acf[rows, lag], acf[rows, lag + 1]
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    return lag + np.clip(shift, -0.5, 0.5)


# ---------------------------------------------------------------------------------------------
# U-shape scores


def u_shape_scores(acc_magnitude, sampling_rate_hz: float, params=None) -> np.ndarray:
    """Score every sample by the U-shape to its left (tau(t) of Algorithm 1; 0 off peaks).

    Parameters
    ----------
    acc_magnitude : array_like of float, shape (n_timepoints,)
        Acceleration magnitude a_M (m/s^2).
    sampling_rate_hz : float
        Sampling rate; kappa is rescaled from its 50 Hz value.
    params : GaitDetectionParams, optional
        kappa and L_T; defaults to :meth:`GaitDetectionParams.paper`.

    Returns
    -------
    scores : np.ndarray of float64, shape (n_timepoints,)
        tau(t) >= 0 in curve-length units (m/s^2); 0 except at peaks of a_M.

    Notes
    -----
    Reconstruction (RECONSTRUCTION 1.3). a_M is split into maximal monotone runs; a run's length
    is its curve length sum sqrt(diff^2 + kappa^2). Runs shorter than L_T are omitted: the
    remaining ("significant") runs are merged where neighbours share a direction, and the
    turning point between a significant fall and rise (rise and fall) is the minimum
    (maximum) of a_M between them. Each merged run's length is the curve length over its
    whole span. A peak t at the top of a significant rise scores the full U-shape to its
    left: length(fall) + length(rise). A peak inside a rise (a bump on the way up) scores the
    U-shape cut at t: length(fall) + curve length from the valley to t, which is less. A
    peak inside a significant fall has no U-shape ending at it and scores 0. Scores are O(n).

    Examples
    --------
    >>> a_m = np.array([5, 0, 5, 4.9, 0, 5, 0], dtype=float)
    >>> np.round(u_shape_scores(a_m, 50.0, GaitDetectionParams(segment_threshold_m_s2=3.0)), 2)
    array([ 0.  ,  0.  , 10.  ,  0.  ,  0.  , 10.04,  0.  ])
    """
    params = GaitDetectionParams.updated() if params is None else params
    signal = _as_signal(acc_magnitude, "acc_magnitude")
    kappa = params.kappa_at(_check_rate(sampling_rate_hz))
    return _u_shape_scores(signal, kappa, params.segment_threshold_m_s2)


def _u_shape_scores(signal, kappa, threshold):
    n = signal.size
    scores = np.zeros(n)
    if n < 3:
        return scores
    diff = np.diff(signal)
    # cum[t] = curve length from sample 0 to sample t.
    cum = np.concatenate([[0.0], np.cumsum(np.sqrt(diff * diff + kappa * kappa))])
    # Direction of each step; flat steps inherit the previous direction (the first ones the next).
    sign = np.sign(diff)
    nz = np.flatnonzero(sign)
    if nz.size == 0:
        return scores
    fill = np.maximum.accumulate(np.where(sign != 0, np.arange(n - 1), -1))
    fill[fill < 0] = nz[0]
    sign = sign[fill]
    # Maximal monotone runs over steps [run_lo, run_hi): samples run_lo .. run_hi.
    change = np.flatnonzero(sign[1:] != sign[:-1]) + 1
    run_lo = np.concatenate([[0], change])
    bounds = np.concatenate([run_lo, [n - 1]])  # run r spans samples bounds[r] .. bounds[r+1]
    run_dir = sign[run_lo]
    bounds, run_dir = _simplify_runs(bounds, run_dir, cum, threshold)
    if not np.any(run_dir > 0):
        return scores
    m_dir = run_dir
    seg_lo, seg_hi = bounds[:-1], bounds[1:]
    seg_len = cum[seg_hi] - cum[seg_lo]
    # Each significant rise ends at a turning point that is a peak of a_M; it scores the
    # U-shape it closes: the significant fall before it plus the rise itself.
    rise = np.flatnonzero((m_dir > 0) & (seg_hi < n - 1))
    fall_len = np.where(rise > 0, seg_len[np.maximum(rise - 1, 0)], 0.0)
    scores[seg_hi[rise]] = fall_len + seg_len[rise]
    return scores


def _simplify_runs(bounds, run_dir, cum, threshold):
    """Absorb monotone runs shorter than ``threshold`` into their neighbours, shortest first.

    Runs alternate in direction. Each round, every run that is shorter than the threshold
    and strictly shorter than both neighbours (ties: the earlier) is merged with them into
    one run of the neighbours' direction, so alternation is preserved and every boundary
    left is a turning point of the original signal. Rounds repeat until every run reaches
    the threshold or one run is left. Vectorised per round; a handful of rounds in practice.
    """
    while run_dir.size > 1:
        length = cum[bounds[1:]] - cum[bounds[:-1]]
        n_runs = length.size
        left = np.concatenate([[np.inf], length[:-1]])
        right = np.concatenate([length[1:], [np.inf]])
        # Local minima of length (of equal neighbours the later one): never two adjacent runs,
        # and the last of the shortest runs always qualifies, so every round makes progress.
        selected = (length < threshold) & (length <= left) & (length < right)
        if not selected.any():
            break
        # Remove both boundaries of each selected run (an edge run loses its inner one).
        drop = np.zeros(n_runs + 1, dtype=bool)
        sel = np.flatnonzero(selected)
        drop[sel] = True
        drop[sel + 1] = True
        drop[0] = drop[-1] = False
        keep_bounds = ~drop
        new_bounds = bounds[keep_bounds]
        # Direction of each merged run: that of any of its unselected members.
        group = np.cumsum(keep_bounds[:-1]) - 1  # merged-run id of each old run
        unselected = ~selected
        new_dir = np.zeros(new_bounds.size - 1, dtype=run_dir.dtype)
        new_dir[group[unselected]] = run_dir[unselected]
        bounds, run_dir = new_bounds, new_dir
    return bounds, run_dir


# ---------------------------------------------------------------------------------------------
# GGGD


def detect_cycle_starts(
    acc_magnitude, sampling_rate_hz: float, params: GaitDetectionParams | None = None
) -> np.ndarray:
    """Detect gait-cycle starts h(k) with grid-based greedy detection (Algorithm 1).

    Parameters
    ----------
    acc_magnitude : array_like of float, shape (n_timepoints,)
        Acceleration magnitude a_M = |a| (m/s^2), uniformly sampled.
    sampling_rate_hz : float
        Sampling rate (the paper resamples to 50 Hz).
    params : GaitDetectionParams, optional
        Defaults to :meth:`GaitDetectionParams.paper`.

    Returns
    -------
    starts : np.ndarray of int64, shape (n_starts,)
        Sorted, de-duplicated sample indices of cycle starts; a cycle is
        [starts[k], starts[k + 1]). Empty if the signal is shorter than
        ``params.min_buffer_s`` or has no U-shapes (e.g. rest).

    Raises
    ------
    ValueError
        If the signal is not 1-D and finite or the rate is not positive.

    See Also
    --------
    detect_peaks_baseline : a plain peak picker, for comparison.
    cycle_bounds : turn starts into [start, end) pairs.

    Notes
    -----
    Reconstruction of RECONSTRUCTION 1.3. The recording is cut into buffers of ``buffer_s``
    every ``hop_s`` (one buffer if shorter); each buffer gets its own period g
    (:func:`estimate_gait_period`). Candidates C: the N_c highest-scoring peaks in the
    buffer, N_c the smallest integer > 2N/g. Stage 1: the grid h(k) = b + k c starts at
    b_0 = the best candidate in the first g samples (or, after the first buffer, the previous
    buffer's first start inside this one), c_0 = g; GreedySearch 1 moves each grid point to
    the NEAREST candidate within g/2 (ties: higher score); b, c are refitted by least
    squares until both move < 0.5 sample or 20 iterations. Stage 2: each grid point moves to
    the candidate within g/4 maximising tau(t) - lambda max(tau) |t - h_hat(t)| / (g/4)
    and stays put if there is none. A buffer keeps the starts between the midpoints of its
    overlaps with its neighbours; starts closer than g/2 are duplicates (the earlier is
    kept).

    Paper deviation: the U-shape scores are computed once on the whole recording rather than
    per buffer (identical except for U-shapes cut by a buffer edge), and grid points with no
    candidate within g/2 are dropped (``drop_unsupported``).

    Paper deviations for landmark consistency (``phase_by_grid_score``, ``phase_by_height``,
    ``phase_switch_cost``, ``refine_fraction``): b_0 of every buffer is chosen jointly over
    the recording by dynamic programming - the phase whose grid b_0 + k g collects the most
    (candidates' a_M height, normalised per buffer), minus a cost for each jump of the phase
    between consecutive buffers - so a walk keeps one landmark instead of switching steps at
    buffer joins; and each stage-2 start is moved to the largest a_M within g/4, a sharp,
    reproducible point. With ``phase_by_grid_score=False`` the buffers are seeded one after
    the other as described above.

    Paper deviations after GGGD (``landmark_consensus``, ``gap_fill_min_correlation``): the
    de-duplicated starts are re-aligned to the recording's mean stride shape, jointly so that
    one landmark is kept (see :func:`_consensus_landmarks`), gaps of 2-4 periods between
    strides that match that shape are filled, and every start is put at the mean stride's
    highest point. This is what makes GGGD at least as good as the plain peak picker on
    multi-peaked pocket signals (``experiments/cycle_detection_eval.py``).

    Examples
    --------
    >>> t_s = np.arange(500) / 50.0
    >>> phase = t_s % 1.0  # strides of 1 s, heel strike at phase 0
    >>> a_m = 9.81 + 6 * np.exp(-0.5 * (np.minimum(phase, 1 - phase) / 0.04) ** 2)
    >>> a_m -= 3 * np.exp(-0.5 * ((phase - 0.85) / 0.06) ** 2)
    >>> detect_cycle_starts(a_m, 50.0)
    array([ 50, 100, 150, 200, 250, 300, 350, 400, 450])
    """
    params = GaitDetectionParams.updated() if params is None else params
    signal = _as_signal(acc_magnitude, "acc_magnitude")
    fs = _check_rate(sampling_rate_hz)
    n = signal.size
    if n < round(params.min_buffer_s * fs) or n < round(params.max_stride_s * fs) + 2:
        return np.zeros(0, dtype=np.int64)
    buffer_n = min(n, round(params.buffer_s * fs))
    scored = signal
    if params.amplitude_reference_m_s2 is not None:
        scored = signal * _amplitude_gain(
            signal, buffer_n, params.amplitude_reference_m_s2, params.max_amplitude_gain
        )
    scores = _u_shape_scores(scored, params.kappa_at(fs), params.segment_threshold_m_s2)

    buffer_starts = _buffer_starts(n, buffer_n, fs, params)
    periods = _buffer_periods(signal, buffer_starts, buffer_n, fs, params)

    # Ownership: between the midpoints of the overlaps with the neighbouring buffers.
    ends = buffer_starts + buffer_n
    mids = (buffer_starts[1:] + ends[:-1]) / 2.0
    own_lo = np.concatenate([[-np.inf], mids])
    own_hi = np.concatenate([mids, [np.inf]])

    peak_idx = np.flatnonzero(scores > 0)
    phase_path = None
    if params.phase_by_grid_score:
        phase_path = _joint_phases(
            scored, scores, peak_idx, buffer_starts, buffer_n, periods, params
        )
    kept: list[np.ndarray] = []
    kept_periods: list[np.ndarray] = []
    previous: np.ndarray | None = None  # absolute starts of the previous buffer
    previous_grid: tuple[float, float] | None = None  # its stage-1 line (absolute b, c)
    for b_idx, (b0, g) in enumerate(zip(buffer_starts, periods, strict=True)):
        lo_p, hi_p = np.searchsorted(peak_idx, [b0, b0 + buffer_n])
        cand = peak_idx[lo_p:hi_p] - b0
        if phase_path is not None:
            seed = float(phase_path[b_idx])  # Paper deviation: the jointly chosen phase
        else:
            seed = _seed_from_previous(previous, previous_grid, b0, buffer_n, params)
        local, line = _gggd_buffer(cand, scores[cand + b0], buffer_n, float(g), seed, params)
        if params.refine_fraction is not None and local.size:
            local = _refine_to_local_max(
                signal[b0 : b0 + buffer_n], local, params.refine_fraction * g
            )
        absolute = local + b0
        previous = absolute if absolute.size else None
        previous_grid = None if line is None else (line[0] + b0, line[1])
        owned = absolute[(absolute >= own_lo[b_idx]) & (absolute < own_hi[b_idx])]
        kept.append(owned)
        kept_periods.append(np.full(owned.size, g))
    starts = np.concatenate(kept)
    start_periods = np.concatenate(kept_periods)
    starts, start_periods = _deduplicate(starts, start_periods, params.duplicate_fraction)
    if params.landmark_consensus and starts.size >= 3:
        starts, start_periods = _consensus_landmarks(signal, starts, start_periods, params)
        starts, start_periods = _deduplicate(starts, start_periods, params.duplicate_fraction)
    return starts


def _buffer_starts(n: int, buffer_n: int, fs: float, params: GaitDetectionParams) -> np.ndarray:
    """Start samples of the buffers: every ``hop_s``, plus a last one ending at ``n``."""
    hop_n = max(1, round(params.hop_s * fs))
    buffer_starts = list(range(0, n - buffer_n + 1, hop_n))
    if buffer_starts[-1] + buffer_n < n:
        # Reconstruction: a last, full-length buffer ends exactly at the end of the recording.
        buffer_starts.append(n - buffer_n)
    return np.asarray(buffer_starts, dtype=np.int64)


def _buffer_periods(signal, buffer_starts, buffer_n: int, fs: float, params) -> np.ndarray:
    """The gait period g of every buffer (:func:`estimate_gait_period`), outliers re-estimated."""
    frames = np.lib.stride_tricks.sliding_window_view(signal, buffer_n)[buffer_starts]
    periods = _periods_from_buffers(frames, fs, params)
    if params.period_tolerance_fraction is not None and periods.size > 2:
        # Paper deviation (see period_tolerance_fraction): re-estimate outlying buffers near
        # the running median of their neighbours' periods.
        half_w = params.period_median_buffers // 2
        reference = np.array(
            [np.median(periods[max(0, i - half_w) : i + half_w + 1]) for i in range(periods.size)]
        )
        outlying = np.abs(periods / reference - 1) > params.period_tolerance_fraction
        for i in np.flatnonzero(outlying):
            periods[i] = _periods_from_buffers(frames[i : i + 1], fs, params, reference[i])[0]
    return periods


def _joint_phases(scored, scores, peak_idx, buffer_starts, buffer_n, periods, params):
    """b_0 of every buffer, chosen jointly over the recording (``phase_by_grid_score``)."""
    totals = []
    window = max(1, round(params.phase_window_fraction * float(np.median(periods))))
    for b0, g in zip(buffer_starts, periods, strict=True):
        lo_p, hi_p = np.searchsorted(peak_idx, [b0, b0 + buffer_n])
        cand = peak_idx[lo_p:hi_p] - b0
        if cand.size < 2:
            totals.append(None)
            continue
        cand, cand_scores = _candidate_set(cand, scores[cand + b0], buffer_n, float(g))
        if params.phase_by_height:
            # Paper deviation (see phase_by_height): candidates collect their height.
            frame = scored[b0 : b0 + buffer_n]
            cand_scores = np.maximum(frame[cand] - frame.mean(), 0.0)
        totals.append(_phase_totals(cand, cand_scores, buffer_n, float(g), window))
    return _phase_path(totals, buffer_starts, buffer_n, periods, params)


def _seed_from_previous(previous, previous_grid, b0: int, buffer_n: int, params) -> float | None:
    """b_0 of a buffer from the previous buffer's starts (None for the first buffer)."""
    if previous is None:
        return None
    seed = None
    inside = previous[(previous >= b0) & (previous < b0 + buffer_n)] - b0
    if inside.size:
        seed = float(inside[0])
    if params.seed_from_grid and previous_grid is not None and inside.size:
        # Paper deviation: the previous buffer's grid line, fitted on all its strides, at its
        # first point inside this buffer. A single stage-2 start can be an outlier (a stride
        # whose landmark was weak); seeding from it moves the whole next buffer onto the other
        # step.
        grid_b, grid_c = previous_grid
        first = grid_b + np.ceil((b0 - grid_b) / grid_c) * grid_c - b0
        if 0 <= first < buffer_n:
            seed = float(first)
    return seed


def _gggd_buffer(cand, cand_scores, n, g, seed, params):
    """GGGD on one buffer. ``cand``: local indices of all peaks with a positive score.

    Returns the local starts and the stage-1 grid line ``(b, c)`` (None if there is none).
    """
    if cand.size < 2:
        return np.zeros(0, dtype=np.int64), None
    cand, cand_scores = _candidate_set(cand, cand_scores, n, g)
    cand_f = cand.astype(np.float64)
    r1 = params.stage1_radius_fraction * g
    r2 = params.stage2_radius_fraction * g

    # Initialise: b_0 = best candidate within the first g samples (or the seed), c_0 = g.
    if seed is None:
        first = cand_f < g
        if not first.any():
            first = cand_f < cand_f.min() + g
        pool = np.flatnonzero(first)
        if params.initial_by_grid_score and pool.size > 1:
            support = []
            for p in cand_f[pool]:
                _, grid = _grid(p, g, n)
                near = np.abs(cand_f[None, :] - grid[:, None]) <= r2
                support.append(np.where(near, cand_scores[None, :], 0.0).max(axis=1).sum())
            b = cand_f[pool[int(np.argmax(support))]]
        else:
            b = cand_f[pool[np.argmax(cand_scores[pool])]]
    else:
        b = seed
    c = g

    # Stage 1: equally spaced grid, refitted on the NEAREST candidate of each grid point.
    for _ in range(params.max_iterations):
        k, grid = _grid(b, c, n)
        matched, choice = _nearest_candidate(grid, cand_f, cand_scores, r1)
        if matched.sum() < 2:
            break
        kk, yy = k[matched], cand_f[choice[matched]]
        if np.unique(kk).size < 2:
            break
        c_new, b_new = np.polyfit(kk, yy, 1)
        if params.refit_trim_fraction is not None and kk.size >= 4:
            # Paper deviation: one trimmed refit. Where a stride's landmark is missing from C
            # the nearest candidate is another peak of the stride; least squares lets that
            # one match drag the whole grid towards the other step.
            resid = np.abs(yy - (b_new + c_new * kk))
            ok = resid <= max(params.refit_trim_fraction * g, 1.0)
            if ok.sum() >= 2 and np.unique(kk[ok]).size >= 2:
                c_new, b_new = np.polyfit(kk[ok], yy[ok], 1)
        # Reconstruction: keep the spacing within the stride range searched for g.
        c_new = float(np.clip(c_new, 0.5 * g, 1.5 * g))
        converged = (
            abs(b_new - b) < params.convergence_tol_samples
            and abs(c_new - c) < params.convergence_tol_samples
        )
        b, c = float(b_new), c_new
        if converged:
            break

    k, grid = _grid(b, c, n)
    if grid.size == 0:
        return np.zeros(0, dtype=np.int64), None
    supported, _ = _nearest_candidate(grid, cand_f, cand_scores, r1)

    # Stage 2: each grid point moves to the best candidate within g/4 under a distance penalty.
    dist_to_grid = np.abs(cand_f[None, :] - grid[:, None])  # (n_grid, n_cand)
    nearest_grid = grid[np.argmin(dist_to_grid, axis=0)]  # h_hat(t) for each candidate
    penalised = cand_scores - params.distance_penalty * cand_scores.max() * np.abs(
        cand_f - nearest_grid
    ) / (r2 if r2 > 0 else 1.0)
    within = dist_to_grid <= r2
    value = np.where(within, penalised[None, :], -np.inf)
    has = within.any(axis=1)
    pick = np.argmax(value, axis=1)
    final = np.where(has, cand_f[pick], np.round(grid))
    if params.drop_unsupported:
        final = final[supported | has]
    final = final[(final >= 0) & (final <= n - 1)]
    return np.unique(final.astype(np.int64)), (float(b), float(c))


def _refine_to_local_max(signal, starts, radius):
    """Move each start to the largest sample of ``signal`` within ``radius`` of it."""
    r = max(0, int(np.floor(radius)))
    if r == 0:
        return starts
    n = signal.size
    offsets = np.arange(-r, r + 1)
    idx = np.clip(starts[:, None] + offsets[None, :], 0, n - 1)
    return np.unique(idx[np.arange(starts.size), np.argmax(signal[idx], axis=1)])


def _candidate_set(cand, cand_scores, n, g):
    """Candidate set C: the N_c best-scoring peaks, N_c = smallest integer > 2N/g."""
    n_c = int(np.floor(2.0 * n / g)) + 1
    if cand.size > n_c:
        # Stable order on ties: earlier peak wins.
        best = np.sort(np.argsort(-cand_scores, kind="stable")[:n_c])
        cand, cand_scores = cand[best], cand_scores[best]
    return cand, cand_scores


def _phase_totals(cand, cand_scores, n, g, window):
    """Total score collected by the grid phi + k g for each integer phase phi in [0, g).

    Each grid point collects the best candidate score within ``window`` samples, weighted
    by 1 - distance / (window + 1), so that among the phases reaching the same candidates
    the one centred on them wins. Every phase is scored over the same number of points.
    """
    dense = np.zeros(n)
    dense[cand] = cand_scores
    collected = dense.copy()
    for d in range(1, window + 1):
        weight = 1.0 - d / (window + 1.0)
        collected[d:] = np.maximum(collected[d:], weight * dense[:-d])
        collected[:-d] = np.maximum(collected[:-d], weight * dense[d:])
    n_points = max(1, int(np.floor((n - 1) / g)))
    phases = np.arange(int(np.ceil(g)))
    points = np.rint(phases[:, None] + g * np.arange(n_points)[None, :]).astype(np.int64)
    return collected[np.minimum(points, n - 1)].sum(axis=1)


def _phase_path(totals, buffer_starts, buffer_n, periods, params):
    """Grid phase of each buffer: maximise normalised totals minus phase-jump costs (DP).

    ``totals[i]`` is :func:`_phase_totals` of buffer i (None if it has no candidates). A
    phase psi of buffer i+1 continues phase phi of buffer i if the grid of i, extended into
    i+1, lands within ``phase_window_fraction * g`` of psi; a larger jump costs
    ``phase_switch_cost`` (quadratic ramp up to it), in units of a buffer's best total.
    Keeping one landmark matters: left and right steps look alike at the waist and collect
    similar totals, so buffer-by-buffer choices would switch between them.
    """
    n_buf = len(totals)
    value, back = [], []
    for i in range(n_buf):
        g = float(periods[i])
        tot = totals[i]
        if tot is None or tot.max() <= 0:
            tot = np.zeros(int(np.ceil(g)))
        else:
            tot = tot / tot.max()
        if i == 0 or value[-1] is None:
            value.append(tot)
            back.append(None)
            continue
        prev = value[-1]
        g_prev = float(periods[i - 1])
        # Both grids compared at the middle of the overlap (the ownership boundary), each
        # extended there with its own buffer's period.
        mid = 0.5 * (float(buffer_starts[i]) + float(buffer_starts[i - 1]) + buffer_n)
        at_prev = np.mod(float(buffer_starts[i - 1]) + np.arange(prev.size) - mid, g_prev)
        psi = np.arange(tot.size)
        at_new = np.mod(float(buffer_starts[i]) + psi - mid, g)
        g_mean = 0.5 * (g + g_prev)
        d = np.abs(np.mod(at_prev[:, None] - at_new[None, :] + g_mean / 2, g_mean) - g_mean / 2)
        w = max(1.0, params.phase_window_fraction * g)
        cost = params.phase_switch_cost * np.minimum(1.0, (d / w) ** 2)
        cand = prev[:, None] - cost
        arg = np.argmax(cand, axis=0)
        value.append(tot + cand[arg, psi])
        back.append(arg)
    phases = np.zeros(n_buf)
    state = int(np.argmax(value[-1]))
    for i in range(n_buf - 1, -1, -1):
        phases[i] = state
        if back[i] is not None:
            state = int(back[i][state])
    return phases


def _amplitude_gain(signal, window, reference, max_gain):
    """Gain ``reference / spread`` per sample, spread = std over a centred ``window``."""
    n = signal.size
    window = max(2, min(int(window), n))
    centred = signal - signal.mean()
    c1 = np.concatenate([[0.0], np.cumsum(centred)])
    c2 = np.concatenate([[0.0], np.cumsum(centred * centred)])
    lo = np.clip(np.arange(n) - window // 2, 0, n - window)
    hi = lo + window
    mean = (c1[hi] - c1[lo]) / window
    var = np.maximum((c2[hi] - c2[lo]) / window - mean * mean, 0.0)
    spread = np.sqrt(var)
    return reference / np.maximum(spread, reference / max_gain)


def _grid(b, c, n):
    """Grid points b + k c inside [0, n - 1] (k may be negative) and their k."""
    k_lo = int(np.ceil(-b / c))
    k_hi = int(np.floor((n - 1 - b) / c))
    k = np.arange(k_lo, k_hi + 1)
    return k, b + k * c


def _nearest_candidate(grid, cand_f, cand_scores, radius):
    """GreedySearch 1: nearest candidate within ``radius`` of each grid point (ties: score)."""
    if grid.size == 0 or cand_f.size == 0:
        return np.zeros(grid.size, dtype=bool), np.zeros(grid.size, dtype=np.int64)
    dist = np.abs(cand_f[None, :] - grid[:, None])
    dmin = dist.min(axis=1)
    tied = dist <= dmin[:, None] + 1e-9
    choice = np.argmax(np.where(tied, cand_scores[None, :], -np.inf), axis=1)
    return dmin <= radius, choice


def _deduplicate(starts, periods, fraction):
    """Sort starts and drop any closer than ``fraction * g`` to the previous kept one.

    Returns the kept starts (int64) and their periods.
    """
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    order = np.argsort(starts, kind="stable")
    starts, periods = starts[order], periods[order]
    keep = np.ones(starts.size, dtype=bool)
    last = starts[0]
    for i in range(1, starts.size):  # one pass over ~1 start per second: cheap
        if starts[i] - last < fraction * periods[i]:
            keep[i] = False
        else:
            last = starts[i]
    return starts[keep].astype(np.int64), periods[keep]


def _consensus_landmarks(signal, starts, periods, params):
    """Re-align GGGD's starts to one landmark of the recording's stride template.

    ``starts`` (sorted, int64) and ``periods`` (g of the buffer each start came from). The
    template T is the mean of the mean-removed, unit-norm windows of one median period
    centred on the starts. Every start may move by up to half a period; c_i(d) is the
    normalised correlation of T with the window centred on starts[i] + d. The shifts
    maximise sum_i c_i(d_i) - sum_i cost_i (dynamic programming, states = integer shifts),
    where cost_i ramps quadratically up to ``consensus_switch_cost`` with the distance of the
    step (starts[i] + d_i) - (starts[i-1] + d_{i-1}) from the nearest multiple of the local
    period. The template is rebuilt from the aligned windows ``consensus_iterations`` times.
    Gaps of 2 .. ``gap_fill_max_strides`` periods are then filled (see
    ``gap_fill_min_correlation``), and all starts move by the offset of the template's
    maximum, so that a start sits on the stride's consensus peak. O(n_starts * g^2).
    """
    n = signal.size
    g = float(np.median(periods))
    half = max(1, round(g / 2))
    offsets = np.arange(-half, half)
    shifts = np.arange(-half, half + 1)
    pad = 2 * half + 2
    padded = np.concatenate([np.zeros(pad), signal - signal.mean(), np.zeros(pad)])
    s = np.asarray(starts, dtype=np.int64)
    # Local period of each start: its buffer's g, divided by the whole number nearest to
    # g / median g. A buffer whose autocorrelation took the double stride (fast walking near
    # min_stride_s) otherwise makes every other stride look like a missed one.
    g_local = np.asarray(periods, dtype=np.float64)
    g_local = g_local / np.maximum(np.rint(g_local / g), 1.0)
    for _ in range(max(0, params.consensus_iterations)):
        corr = _window_correlation(padded, _stride_template(padded, s + pad, offsets))
        # corr[j] belongs to the window starting at padded index j, centred at j + half.
        pos = np.clip(s[:, None] + pad + shifts[None, :] - half, 0, corr.size - 1)
        shift = _consensus_path(corr[pos], s, g_local, shifts, params)
        moved = np.clip(s + shift, 0, n - 1)
        if np.array_equal(moved, s):
            break
        order = np.argsort(moved, kind="stable")
        s, g_local = moved[order], g_local[order]
    if params.gap_fill_min_correlation is not None and s.size >= 3:
        corr = _window_correlation(padded, _stride_template(padded, s + pad, offsets))
        radius = max(1, round(g / 8))
        near = np.arange(-radius, radius + 1)
        gaps = np.diff(s)
        n_strides = np.rint(gaps / g_local[:-1]).astype(np.int64)
        # Only gaps inside walking: both starts bounding the gap match the template.
        own = corr[np.clip(s + pad - half, 0, corr.size - 1)] >= params.gap_fill_min_correlation
        fill = (n_strides >= 2) & (n_strides <= params.gap_fill_max_strides) & own[:-1] & own[1:]
        new_s, new_g = [s], [g_local]
        for i in np.flatnonzero(fill):
            k = n_strides[i]
            points = np.rint(s[i] + gaps[i] * np.arange(1, k) / k).astype(np.int64)
            pos = np.clip(points[:, None] + near[None, :] + pad - half, 0, corr.size - 1)
            values = corr[pos]
            best = np.argmax(values, axis=1)
            ok = values[np.arange(points.size), best] >= params.gap_fill_min_correlation
            new_s.append(np.clip(points + near[best], 0, n - 1)[ok])
            new_g.append(np.full(int(ok.sum()), g_local[i]))
        s = np.concatenate(new_s)
        g_local = np.concatenate(new_g)
        order = np.argsort(s, kind="stable")
        s, g_local = s[order], g_local[order]
    # Landmark: the highest point of the mean (not normalised) stride around the starts.
    mean_stride = padded[s[:, None] + pad + offsets[None, :]].mean(axis=0)
    s = s + offsets[int(np.argmax(mean_stride))]
    inside = (s >= 0) & (s < n)
    return s[inside], g_local[inside]


def _stride_template(padded, centres, offsets):
    """Zero-mean, unit-norm mean of the normalised windows ``padded[centres + offsets]``."""
    windows = padded[centres[:, None] + offsets[None, :]]
    windows = windows - windows.mean(axis=1, keepdims=True)
    windows /= np.maximum(np.linalg.norm(windows, axis=1, keepdims=True), 1e-12)
    template = windows.mean(axis=0)
    template -= template.mean()
    return template / max(float(np.linalg.norm(template)), 1e-12)


def _window_correlation(x, template):
    """Normalised correlation of each window ``x[j : j + w]`` with a zero-mean unit template."""
    w = template.size
    dot = np.correlate(x, template, mode="valid")
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    s1 = c1[w:] - c1[:-w]
    s2 = c2[w:] - c2[:-w]
    return dot / np.sqrt(np.maximum(s2 - s1 * s1 / w, 1e-12))


def _consensus_path(corr, starts, g_local, shifts, params):
    """Shift of each start maximising correlation minus landmark-change costs (Viterbi)."""
    n_starts, n_shifts = corr.shape
    change = (shifts[None, :] - shifts[:, None]).astype(np.float64)  # [previous, new]
    g = 0.5 * (g_local[1:] + g_local[:-1])
    step = np.diff(starts).astype(np.float64)
    ramp = np.maximum(params.consensus_tolerance_fraction * g, 1.0)
    value = corr[0].copy()
    back = np.zeros((n_starts, n_shifts), dtype=np.int64)
    columns = np.arange(n_shifts)
    chunk = 128  # transition costs of a chunk of strides at once: bounded memory
    for lo in range(0, n_starts - 1, chunk):
        hi = min(lo + chunk, n_starts - 1)
        gg = g[lo:hi, None, None]
        moved = step[lo:hi, None, None] + change[None, :, :]
        # Distance from the nearest whole number (>= 1) of periods: a start may follow a
        # missed stride, but two starts must not merge into one.
        deviation = np.abs(moved - gg * np.maximum(np.rint(moved / gg), 1.0))
        costs = params.consensus_switch_cost * np.minimum(
            1.0, (deviation / ramp[lo:hi, None, None]) ** 2
        )
        for j in range(hi - lo):  # the recursion itself is sequential: one step per stride
            total = value[:, None] - costs[j]
            arg = np.argmax(total, axis=0)
            back[lo + j + 1] = arg
            value = corr[lo + j + 1] + total[arg, columns]
    path = np.zeros(n_starts, dtype=np.int64)
    state = int(np.argmax(value))
    for i in range(n_starts - 1, -1, -1):
        path[i] = state
        state = int(back[i, state])
    return shifts[path]


# ---------------------------------------------------------------------------------------------
# baselines and helpers


def detect_peaks_baseline(
    acc_magnitude,
    sampling_rate_hz: float,
    *,
    min_distance_fraction: float = 0.7,
    height_m_s2: float | None = None,
    period_samples: float | None = None,
) -> np.ndarray:
    """Pick one highest peak per stride: a plain peak-detector baseline for GGGD.

    Parameters
    ----------
    acc_magnitude : array_like of float, shape (n_timepoints,)
        Acceleration magnitude a_M (m/s^2).
    sampling_rate_hz : float
        Sampling rate.
    min_distance_fraction : float, default=0.7
        Minimum distance between picked peaks as a fraction of the stride period: closer
        peaks lose to the highest (``scipy.signal.find_peaks`` ``distance``).
    height_m_s2 : float, optional
        Minimum peak height; defaults to the mean of a_M.
    period_samples : float, optional
        Stride period in samples; estimated on the whole signal by
        :func:`estimate_gait_period` with the RECONSTRUCTION 1.2 rule
        (``period_min_relative_acf=None``) if omitted, so that GGGD's deviations do not move
        the baseline it is compared with.

    Returns
    -------
    starts : np.ndarray of int64, shape (n_starts,)
        Sorted sample indices of the picked peaks.

    Examples
    --------
    >>> t_s = np.arange(300) / 50.0
    >>> a_m = 9.81 + 3 * np.cos(2 * np.pi * t_s) + np.cos(4 * np.pi * t_s)
    >>> detect_peaks_baseline(a_m, 50.0)
    array([ 50, 100, 150, 200, 250])
    """
    signal = _as_signal(acc_magnitude, "acc_magnitude")
    fs = _check_rate(sampling_rate_hz)
    if period_samples is None:
        if signal.size < round(GaitDetectionParams().max_stride_s * fs) + 2:
            return np.zeros(0, dtype=np.int64)
        paper_rule = GaitDetectionParams.updated().replace(period_min_relative_acf=None)
        period_samples = estimate_gait_period(signal, fs, paper_rule)
    height = float(signal.mean()) if height_m_s2 is None else float(height_m_s2)
    distance = max(1, round(min_distance_fraction * period_samples))
    peaks, _ = find_peaks(signal, height=height, distance=distance)
    return peaks.astype(np.int64)


def overlap_windows(
    n_samples: int, sampling_rate_hz: float, window_s: float = 1.28, overlap_s: float = 0.5
) -> np.ndarray:
    """Start indices of overlapping fixed windows (Method 1 baseline: no cycle detection).

    Parameters
    ----------
    n_samples : int
        Length of the recording in samples.
    sampling_rate_hz : float
        Sampling rate.
    window_s : float, default=1.28
        Window length (64 samples at 50 Hz, the image width) [paper].
    overlap_s : float, default=0.5
        Overlap of consecutive windows [paper].

    Returns
    -------
    starts : np.ndarray of int64, shape (n_windows,)
        Starts of every window that fits entirely in the recording.

    Notes
    -----
    Reconstruction: step = window - overlap = 0.78 s (39 samples at 50 Hz).

    Examples
    --------
    >>> overlap_windows(200, 50.0)
    array([  0,  39,  78, 117])
    """
    fs = _check_rate(sampling_rate_hz)
    window_n = round(window_s * fs)
    step_n = round((window_s - overlap_s) * fs)
    if window_n < 1 or step_n < 1:
        raise ValueError(
            "window_s must exceed overlap_s by at least one sample; received "
            f"window_s={window_s}, overlap_s={overlap_s}"
        )
    if n_samples < window_n:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, int(n_samples) - window_n + 1, step_n, dtype=np.int64)


def cycle_bounds(starts) -> np.ndarray:
    """Turn sorted cycle starts into [start, end) pairs of consecutive starts.

    Parameters
    ----------
    starts : array_like of int, shape (n_starts,)
        Sorted cycle starts (samples).

    Returns
    -------
    bounds : np.ndarray of int64, shape (max(n_starts - 1, 0), 2)

    Examples
    --------
    >>> cycle_bounds([3, 55, 104])
    array([[  3,  55],
           [ 55, 104]])
    """
    arr = np.asarray(starts, dtype=np.int64).ravel()
    if arr.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    return np.stack([arr[:-1], arr[1:]], axis=1)


@dataclass(frozen=True)
class CycleMatch:
    """Agreement between detected and true cycle starts (see :func:`match_cycle_starts`)."""

    # Fraction of true starts (shifted by offset_s) with a detection within the tolerance.
    matched_fraction: float
    # Constant phase offset (s) of the detected landmark after the true start, in (-T/2, T/2].
    offset_s: float
    # Offset as a fraction of the stride, in [0, 1) (0.5: the detector found the other step).
    offset_phase: float
    # Median |detected cycle length - true stride duration| / true stride duration.
    cycle_length_error: float
    # Fraction of detected cycles within 15% of the true stride duration.
    within_15pct: float
    # Missed strides per 100 true strides (detected cycles spanning several strides).
    missed_per_100: float
    # Fraction of detections with no (shifted) true start within the tolerance.
    spurious_fraction: float
    n_true: int
    n_detected: int

    def as_dict(self) -> dict:
        """Return the fields as a plain dict."""
        return dataclasses.asdict(self)


def match_cycle_starts(
    detected,
    true,
    sampling_rate_hz: float,
    tolerance_s: float = 0.1,
    *,
    n_samples: int | None = None,
) -> CycleMatch:
    """Compare detected cycle starts with true ones, allowing one constant landmark offset.

    Parameters
    ----------
    detected : array_like, shape (n_detected,)
        Detected starts (samples).
    true : array_like, shape (n_true,)
        True cycle starts (samples, may be fractional), at least two.
    sampling_rate_hz : float
        Sampling rate.
    tolerance_s : float, default=0.1
        A detection matches a true start within this distance.
    n_samples : int, optional
        Length of the recording. If given, the (shifted) truth is scored over the whole
        recording; otherwise only between the first and the last true start.

    Returns
    -------
    CycleMatch

    Notes
    -----
    A detector may lock onto another landmark of the stride (e.g. the other foot's heel
    strike). Each detection's phase inside its true stride is computed; their circular mean
    (refined on the detections within 0.15 stride of it) is the recording's constant offset.
    Each true start is shifted by that phase of its own stride (the truth is extrapolated by
    one stride at each end), so cadence drift is handled. Detections and shifted true starts
    are then matched within the tolerance, both ways.

    Examples
    --------
    >>> true = np.arange(0, 1000, 50)
    >>> m = match_cycle_starts(true[:-1] + 25, true, 50.0)
    >>> m.matched_fraction, m.offset_phase, m.spurious_fraction, m.cycle_length_error
    (1.0, 0.5, 0.0, 0.0)
    """
    fs = _check_rate(sampling_rate_hz)
    det = np.sort(np.asarray(detected, dtype=np.float64).ravel())
    tru = np.sort(np.asarray(true, dtype=np.float64).ravel())
    if tru.size < 2:
        raise ValueError(f"true needs at least two starts; received {tru.size}")
    strides = np.diff(tru)
    ext = np.concatenate([[tru[0] - strides[0]], tru, [tru[-1] + strides[-1]]])
    ext_len = np.diff(ext)
    tol = tolerance_s * fs
    lo_lim, hi_lim = (tru[0], tru[-1]) if n_samples is None else (0.0, float(n_samples) - 1)
    det = det[(det >= lo_lim - tol) & (det <= hi_lim + tol)]
    if det.size == 0:
        return CycleMatch(0.0, 0.0, 0.0, float("nan"), 0.0, 100.0, 0.0, int(tru.size), 0)
    # Phase of each detection inside its true stride; circular mean, refined near the mode.
    cyc = np.clip(np.searchsorted(ext, det, side="right") - 1, 0, ext_len.size - 1)
    angle = 2 * np.pi * (det - ext[cyc]) / ext_len[cyc]
    centre = np.angle(np.mean(np.exp(1j * angle)))
    near = np.abs(np.angle(np.exp(1j * (angle - centre)))) < 2 * np.pi * 0.15
    if near.any():
        centre = np.angle(np.mean(np.exp(1j * angle[near])))
    offset_phase = float((centre / (2 * np.pi)) % 1.0)
    if offset_phase > 1 - 1e-9:
        offset_phase = 0.0
    shifted = ext[:-1] + offset_phase * ext_len
    shifted = shifted[(shifted >= lo_lim) & (shifted <= hi_lim)]
    matched_true = _nearest_distance(shifted, det) <= tol
    matched_det = _nearest_distance(det, shifted) <= tol
    # Cycle lengths against the true stride in which each detected cycle starts.
    if det.size >= 2:
        lengths = np.diff(det)
        ref = ext_len[cyc[:-1]]
        rel = np.abs(lengths - ref) / ref
        err = float(np.median(rel))
        within = float(np.mean(rel <= 0.15))
        missed = float(np.sum(np.maximum(np.round(lengths / ref) - 1, 0)))
    else:
        err, within, missed = float("nan"), 0.0, 0.0
    offset_s = offset_phase if offset_phase <= 0.5 else offset_phase - 1.0
    offset_s *= float(np.median(strides)) / fs
    return CycleMatch(
        matched_fraction=float(matched_true.mean()) if shifted.size else 0.0,
        offset_s=float(offset_s),
        offset_phase=round(offset_phase, 6),
        cycle_length_error=err,
        within_15pct=within,
        missed_per_100=100.0 * missed / max(int(shifted.size), 1),
        spurious_fraction=float(1.0 - matched_det.mean()),
        n_true=int(tru.size),
        n_detected=int(det.size),
    )


def _nearest_distance(points, targets):
    """Distance from each point to its nearest target (inf if there are none)."""
    if targets.size == 0:
        return np.full(points.size, np.inf)
    idx = np.searchsorted(targets, points)
    left = targets[np.clip(idx - 1, 0, targets.size - 1)]
    right = targets[np.clip(idx, 0, targets.size - 1)]
    return np.minimum(np.abs(points - left), np.abs(points - right))


def _as_signal(values, name):
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; received shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _check_rate(sampling_rate_hz):
    fs = float(sampling_rate_hz)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling_rate_hz must be positive; received {sampling_rate_hz!r}")
    return fs
