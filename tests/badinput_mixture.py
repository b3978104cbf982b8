"""Bad-input cases for gmmlab.mixture (GaussianMixture, fit_many, the step functions) and
gmmlab.variational (see ``tests/badinput.py`` for how a call is judged).

Tiny data (40 x 2, two blobs), one model fitted per covariance type and reused. Huge
data (``X * 1e300``) must raise an error naming ``X`` (its squares overflow float64) or
give finite numbers; far-away points (``X * 1e100``) must get finite log-densities and
responsibilities that sum to 1.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from badinput import (
    MAY_ACCEPT,
    MUST_RAISE,
    Case,
    bad_arrays,
    bad_bools,
    bad_choices,
    bad_devices,
    bad_floats,
    bad_ints,
    bad_random_states,
    sweep,
)

from gmmlab import variational as V
from gmmlab.mixture import (
    GaussianMixture,
    e_step,
    em,
    fit_many,
    log_gaussian_prob,
    m_step,
    precision_cholesky,
)

NEVER = ("<this call must succeed>",)  # names no message can contain: a raise fails


@functools.lru_cache(maxsize=None)
def _data():
    rng = np.random.RandomState(0)
    return np.vstack([rng.randn(20, 2) - 3.0, rng.randn(20, 2) + 3.0])


@functools.lru_cache(maxsize=None)
def _fitted(covariance_type="full"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(_data())


@functools.lru_cache(maxsize=None)
def _steps():
    """Valid arguments of the step functions: X, one-hot resp, weights, means, covariances, U."""
    X = _data()
    resp = np.eye(2)[(X[:, 0] > 0).astype(int)]
    w, m, c = m_step(X, resp, "full", 1e-6)
    return X, resp, w, m, c, precision_cholesky(c, "full")


def _proba_ok(p):
    p = np.asarray(p)
    if p.ndim != 2 or (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-9):
        return "responsibilities that are not >= 0 or do not sum to 1"
    return None


def _same_fit_as_float(label, X):
    """For integer/bool/list X: the same means as the fit of the float copy of X."""
    ref = _fit(np.asarray(X, dtype=float))

    def check(gm):
        if not np.allclose(gm.means_, ref.means_):
            return f"{label} X gives other means than the same X as float64"
        return None

    return check


def _fit(X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GaussianMixture(2, random_state=0, **kw).fit(X)


def _X_values():
    """bad_arrays(X), plus points far away (x 1e100): may be accepted, must stay finite."""
    X = _data()
    return bad_arrays(X) + [("far away (x 1e100)", X * 1e100, MAY_ACCEPT)]


# --------------------------------------------------------------------------- the estimator


def _constructor_cases():
    X = _data()
    return [
        Case("n_components", "string", lambda: GaussianMixture("2").fit(X)),
        Case("covariance_type", "unknown", lambda: GaussianMixture(2, covariance_type="bogus").fit(X)),
        Case("device", "unknown", lambda: GaussianMixture(2, device="bogus").fit(X)),
        Case("random_state", "string", lambda: GaussianMixture(2, random_state="x").fit(X)),
    ]


def _fit_cases():
    X = _data()
    cases = []
    for label, value, expect in _X_values():
        check = None
        if label in ("integer", "uint8", "list", "bool"):
            check = _same_fit_as_float(label, value)
        cases += sweep("X", lambda v: _fit(v), [(label, value, expect)], check=check)
    cases += [Case("X", "one sample", lambda: _fit(X[:1]))]

    hyper = {
        "n_components": bad_ints(2, low=1, high=len(X)),
        "covariance_type": bad_choices(),
        "tol": bad_floats(1e-3, low=0.0),
        "reg_covar": bad_floats(1e-6, low=0.0),
        "max_iter": bad_ints(100, low=0),
        "n_init": bad_ints(1, low=1),
        "init_params": bad_choices(),
        "warm_start": bad_bools(),
        "verbose": bad_ints(0, low=0),
        "verbose_interval": bad_ints(10, low=1),
        "random_state": bad_random_states(),
        "device": bad_devices(),
        "dtype": [(lbl, v, e) for lbl, v, e in bad_choices(optional=True)]
        + [("int8", "int8", MUST_RAISE), ("numpy int32", np.int32, MUST_RAISE)],
        "engine": bad_choices(),
    }
    for name, values in hyper.items():
        cases += sweep(name, lambda v, name=name: _fit(X, **{name: v}), values)
    # the initial parameters: None is their valid default (optional=True)
    w, m = np.array([0.5, 0.5]), np.array([[-3.0, -3.0], [3.0, 3.0]])
    P = np.stack([np.eye(2), np.eye(2)])
    cases += sweep("weights_init", lambda v: _fit(X, weights_init=v), bad_arrays(w, optional=True))
    cases += sweep("means_init", lambda v: _fit(X, means_init=v), bad_arrays(m, optional=True))
    cases += sweep("precisions_init", lambda v: _fit(X, precisions_init=v),
                   bad_arrays(P, optional=True))
    cases += [
        Case("precisions_init", "not symmetric",
             lambda: _fit(X, precisions_init=np.stack([np.eye(2), [[1.0, 0.5], [0.0, 1.0]]]))),
        Case("precisions_init", "not positive definite",
             lambda: _fit(X, precisions_init=np.stack([np.eye(2), -np.eye(2)]))),
    ]
    for ct in ("full", "diag", "spherical", "tied"):  # huge data, whatever the initialisation
        for init in ("random", "random_from_data"):
            cases.append(Case("X", f"huge (x 1e300), {ct}, {init}",
                              lambda ct=ct, init=init: _fit(X * 1e300, covariance_type=ct,
                                                            init_params=init), MAY_ACCEPT))
            cases.append(Case("X", f"far away (x 1e100), {ct}, {init}",
                              lambda ct=ct, init=init: _fit(X * 1e100, covariance_type=ct,
                                                            init_params=init), MAY_ACCEPT))

    def warm_then(**change):
        gm = GaussianMixture(2, warm_start=True, random_state=0, max_iter=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm.fit(X)
            gm.set_params(**change)
            return gm.fit(X)

    cases += [
        Case("n_components", "changed under warm_start", lambda: warm_then(n_components=3)),
        Case("covariance_type", "changed under warm_start",
             lambda: warm_then(covariance_type="diag")),
    ]
    return cases


def _fit_predict_cases():
    X = _data()

    def fit_predict(v, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return GaussianMixture(2, random_state=0, **kw).fit_predict(v)

    cases = sweep("X", fit_predict, _X_values())
    cases += sweep("n_components", lambda v: fit_predict(X, n_components=v), bad_ints(2, high=len(X)))
    cases += sweep("random_state", lambda v: fit_predict(X, random_state=v), bad_random_states())
    return cases


def _predict_like(method, check=None):
    def cases():
        X = _data()
        out = [Case("X", "unfitted model", lambda: getattr(GaussianMixture(2), method)(X))]
        for ct in ("full", "diag", "spherical", "tied"):
            gm = _fitted(ct)
            values = _X_values() if ct == "full" else [
                (label, value, expect) for label, value, expect in _X_values()
                if label.startswith(("huge", "far", "tiny"))]
            for label, value, expect in values:
                out += sweep("X", lambda v, gm=gm: getattr(gm, method)(v),
                             [(f"{label}, {ct}", value, expect)], check=check)
            out.append(Case("X", f"3 features, {ct}",
                            lambda gm=gm: getattr(gm, method)(np.hstack([X, X[:, :1]]))))
        return out

    return cases


def _sample_cases():
    gm = _fitted()
    cases = [Case("n_samples", "unfitted model", lambda: GaussianMixture(2).sample(3))]
    cases += sweep("n_samples", lambda v: gm.sample(v), bad_ints(3, low=1))

    def with_state(v):
        g = _fitted("diag")
        saved = g.random_state
        g.random_state = v
        try:
            return g.sample(3)
        finally:
            g.random_state = saved

    cases += sweep("random_state", with_state, bad_random_states())
    return cases


def _n_parameters_cases():
    def after_changing_covariance_type():
        g = _fit(_data())
        g.covariance_type = "bogus"
        return g.n_parameters()

    return [
        Case("self", "unfitted model", lambda: GaussianMixture(2).n_parameters()),
        Case("covariance_type", "changed to an unknown value after fit",
             after_changing_covariance_type),
    ]


# --------------------------------------------------------------------------- fit_many


def _fit_many_cases():
    X = _data()

    def many(estimators, data=X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_many(estimators, data)

    GM = GaussianMixture
    cases = sweep("X", lambda v: many([GM(1, random_state=0), GM(2, random_state=0)], v),
                  bad_arrays(X))
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    cases += [
        Case("estimators", "empty list", lambda: many([])),
        Case("estimators", "one estimator, not a list", lambda: many(GM(2))),
        Case("estimators", "int", lambda: many(3)),
        Case("estimators", "None", lambda: many(None)),
        Case("estimators", "string", lambda: many("ab")),
        Case("estimators", "scikit-learn's GaussianMixture", lambda: many([GM(2), SkGaussianMixture(2)])),
        Case("estimators", "the same one twice", lambda: (lambda g: many([g, g]))(GM(2))),
        Case("reg_covar", "two values", lambda: many([GM(1), GM(2, reg_covar=1e-3)])),
        Case("covariance_type", "two values", lambda: many([GM(1), GM(2, covariance_type="diag")])),
        Case("dtype", "two values", lambda: many([GM(1), GM(2, dtype="float32")])),
        Case("engine", "two values", lambda: many([GM(1), GM(2, engine="reference")])),
        Case("n_components", "too many for X", lambda: many([GM(1), GM(50)])),
        Case("tol", "negative in one", lambda: many([GM(1), GM(2, tol=-1.0)])),
        Case("random_state", "bad in one", lambda: many([GM(1), GM(2, random_state="x")])),
        Case("device", "bad in both", lambda: many([GM(1, device="bogus"), GM(2, device="bogus")])),
        # equal settings spelled differently: fitted together (a raise fails)
        Case("reg_covar", "0 and 0.0", lambda: many([GM(1, reg_covar=0), GM(2, reg_covar=0.0)]),
             MAY_ACCEPT, names=NEVER),
        Case("device", "'cpu' and torch.device('cpu')",
             lambda: many([GM(1, device="cpu"), GM(2, device=torch.device("cpu"))]),
             MAY_ACCEPT, names=NEVER),
        Case("dtype", "'float32' and np.float32",
             lambda: many([GM(1, dtype="float32"), GM(2, dtype=np.float32)]),
             MAY_ACCEPT, names=NEVER),
        Case("dtype", "None and 'float64'",
             lambda: many([GM(1), GM(2, dtype="float64")]), MAY_ACCEPT, names=NEVER),
    ]
    return cases


# --------------------------------------------------------------------------- step functions


def _non_triangular():
    return np.stack([np.eye(2), [[1.0, 2.0], [3.0, 1.0]]])


def _log_gaussian_prob_cases():
    X, _, _, m, _, U = _steps()
    cases = sweep("X", lambda v: log_gaussian_prob(v, m, U), _X_values())
    cases += sweep("means", lambda v: log_gaussian_prob(X, v, U), bad_arrays(m))
    cases += sweep("precisions_cholesky", lambda v: log_gaussian_prob(X, m, v), bad_arrays(U))
    cases += sweep("covariance_type", lambda v: log_gaussian_prob(X, m, U, v), bad_choices())
    cases += [
        Case("precisions_cholesky", "not triangular", lambda: log_gaussian_prob(X, m, _non_triangular())),
        Case("precisions_cholesky", "tied, not triangular",
             lambda: log_gaussian_prob(X, m, np.array([[1.0, 2.0], [3.0, 1.0]]), "tied")),
        Case("precisions_cholesky", "lower triangular",
             lambda: log_gaussian_prob(X, m, np.swapaxes(U, 1, 2))),
        Case("means", "3 features", lambda: log_gaussian_prob(X, np.hstack([m, m[:, :1]]), U)),
    ]
    return cases


def _e_step_cases():
    X, _, w, m, _, U = _steps()
    cases = sweep("X", lambda v: e_step(v, w, m, U), _X_values())
    cases += sweep("weights", lambda v: e_step(X, v, m, U), bad_arrays(w))
    cases += sweep("means", lambda v: e_step(X, w, v, U), bad_arrays(m))
    cases += sweep("precisions_cholesky", lambda v: e_step(X, w, m, v), bad_arrays(U))
    cases += sweep("covariance_type", lambda v: e_step(X, w, m, U, v), bad_choices())
    cases += [
        Case("precisions_cholesky", "not triangular", lambda: e_step(X, w, m, _non_triangular())),
        Case("weights", "3 weights", lambda: e_step(X, [0.2, 0.3, 0.5], m, U)),
        Case("weights", "sum 2", lambda: e_step(X, w * 2, m, U)),
    ]
    return cases


def _m_step_cases():
    X, resp, *_ = _steps()
    cases = sweep("X", lambda v: m_step(v, resp), bad_arrays(X))
    cases += sweep("resp", lambda v: m_step(X, v), bad_arrays(resp))
    cases += sweep("covariance_type", lambda v: m_step(X, resp, v), bad_choices())
    cases += sweep("reg_covar", lambda v: m_step(X, resp, "full", v), bad_floats(1e-6, low=0.0))
    cases += [
        Case("resp", "all zeros", lambda: m_step(X, np.zeros_like(resp))),
        # a sample in no component is valid (scikit-learn's "random_from_data" start)
        Case("resp", "a row of zeros", lambda: m_step(X, np.vstack([resp[:-1], [[0.0, 0.0]]])),
             MAY_ACCEPT),
        Case("resp", "rows summing to 2", lambda: m_step(X, 2 * resp)),
        Case("resp", "fewer rows than X", lambda: m_step(X, resp[:-1])),
    ]
    return cases


def _precision_cholesky_cases():
    *_, c, _ = _steps()
    cases = sweep("covariances", lambda v: precision_cholesky(v), bad_arrays(c))
    cases += sweep("covariance_type", lambda v: precision_cholesky(c, v), bad_choices())
    cases += sweep("reg_covar", lambda v: precision_cholesky(c, "full", v),
                   bad_floats(1e-6, low=0.0, optional=True))
    cases += [
        Case("covariances", "not symmetric",
             lambda: precision_cholesky(np.stack([np.eye(2), [[1.0, 5.0], [0.0, 1.0]]]))),
        Case("covariances", "tied, not symmetric",
             lambda: precision_cholesky(np.array([[1.0, 0.0], [0.9, 1.0]]), "tied")),
        Case("covariances", "tied, not positive definite",
             lambda: precision_cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]), "tied")),
        Case("covariances", "diag, a zero variance",
             lambda: precision_cholesky(np.array([[1.0, 0.0], [1.0, 1.0]]), "diag")),
        Case("covariances", "full as 'diag'", lambda: precision_cholesky(c, "diag")),
    ]
    return cases


def _em_cases():
    X, resp, w, m, c, _ = _steps()

    def run(**kw):
        args = dict(X=X, weights=w, means=m, covariances=c, covariance_type="full",
                    reg_covar=1e-6, tol=1e-3, max_iter=5)
        args.update(kw)
        ct = args.pop("covariance_type")
        return em(args.pop("X"), args.pop("weights"), args.pop("means"), args.pop("covariances"),
                  ct, **args)

    cases = sweep("X", lambda v: run(X=v), _X_values())
    cases += sweep("weights", lambda v: run(weights=v), bad_arrays(w))
    cases += sweep("means", lambda v: run(means=v), bad_arrays(m))
    cases += sweep("covariances", lambda v: run(covariances=v), bad_arrays(c))
    cases += sweep("covariance_type", lambda v: run(covariance_type=v), bad_choices())
    cases += sweep("reg_covar", lambda v: run(reg_covar=v), bad_floats(1e-6, low=0.0))
    cases += sweep("tol", lambda v: run(tol=v), bad_floats(1e-3, low=0.0))
    cases += sweep("max_iter", lambda v: run(max_iter=v), bad_ints(5, low=0))
    # max_iter=0 runs no step: the arguments are still checked
    cases += [
        Case("X", "string, max_iter=0", lambda: run(X="abc", max_iter=0)),
        Case("weights", "sum 2, max_iter=0", lambda: run(weights=w * 2, max_iter=0)),
        Case("covariances", "not symmetric",
             lambda: run(covariances=np.stack([np.eye(2), [[1.0, 5.0], [0.0, 1.0]]]))),
    ]
    return cases


# --------------------------------------------------------------------------- variational


@functools.lru_cache(maxsize=None)
def _theta():
    X, resp, w, m, c, _ = _steps()
    return X, (w, m, c), V.posterior(X, (w, m, c))


def _params_values():
    """Bad ``params`` (whole, or one part of the tuple) as ``(label, value, names)``."""
    X, (w, m, c), _ = _theta()
    out = [
        ("string", "theta", ("params",)),
        ("None", None, ("params",)),
        ("dict", {"weights": w}, ("params",)),
        ("tuple of 2", (w, m), ("params",)),
        ("unfitted GaussianMixture", GaussianMixture(2), ("params", "fit", "fitted")),
        ("unknown covariance_type", (w, m, c, "bogus"), ("covariance_type",)),
        ("covariance_type 3", (w, m, c, 3), ("covariance_type",)),
        ("not symmetric covariances", (w, m, np.stack([np.eye(2), [[1.0, 5.0], [0.0, 1.0]]])),
         ("params.covariances",)),
        ("not positive definite covariances", (w, m, np.stack([np.eye(2), -np.eye(2)])),
         ("params.covariances",)),
    ]
    for part, valid, make in [
        ("weights", w, lambda v: (v, m, c)),
        ("means", m, lambda v: (w, v, c)),
        ("covariances", c, lambda v: (w, m, v)),
    ]:
        for label, value, expect in bad_arrays(valid):
            if expect == MUST_RAISE:  # accepted forms (lists, tensors...) are checked by the fits
                out.append((f"{part}: {label}", make(value), (f"params.{part}",)))
    return out


def _variational_cases(func, *, with_q=False):
    def cases():
        X, theta, q = _theta()
        call = (lambda X_, p, q_=q: func(X_, p, q_)) if with_q else (lambda X_, p: func(X_, p))
        out = sweep("X", lambda v: call(v, theta), _X_values(),
                    check=_proba_ok if func is V.posterior else None)
        for label, value, names in _params_values():
            out.append(Case("params", label, lambda v=value: call(X, v), names=names))
        out.append(Case("X", "3 features", lambda: call(np.hstack([X, X[:, :1]]), theta)))
        if with_q:
            q_values = bad_arrays(q) + [
                ("complex with 0j", q + 0j, MUST_RAISE),
                ("one-hot integer", np.eye(2, dtype=int)[q.argmax(1)], MAY_ACCEPT),
                ("rows summing to 2", 2 * q, MUST_RAISE),
                ("wrong shape", q[:, :1], MUST_RAISE),
            ]
            out += sweep("q", lambda v: func(X, theta, v), q_values)
        return out

    return cases


def _as_params_cases():
    gm = _fitted("diag")
    out = [Case("params", label, lambda v=value: V.as_params(v), names=names)
           for label, value, names in _params_values()]
    out.append(Case("params", "fitted GaussianMixture", lambda: V.as_params(gm), MAY_ACCEPT))
    return out


CASES = {
    "GaussianMixture": _constructor_cases,
    "GaussianMixture.fit": _fit_cases,
    "GaussianMixture.fit_predict": _fit_predict_cases,
    "GaussianMixture.score_samples": _predict_like("score_samples"),
    "GaussianMixture.score": _predict_like("score"),
    "GaussianMixture.predict": _predict_like("predict"),
    "GaussianMixture.predict_proba": _predict_like("predict_proba", check=_proba_ok),
    "GaussianMixture.sample": _sample_cases,
    "GaussianMixture.n_parameters": _n_parameters_cases,
    "GaussianMixture.bic": _predict_like("bic"),
    "GaussianMixture.aic": _predict_like("aic"),
    "fit_many": _fit_many_cases,
    "em": _em_cases,
    "log_gaussian_prob": _log_gaussian_prob_cases,
    "e_step": _e_step_cases,
    "m_step": _m_step_cases,
    "precision_cholesky": _precision_cholesky_cases,
    "as_params": _as_params_cases,
    "log_joint": _variational_cases(V.log_joint),
    "posterior": _variational_cases(V.posterior),
    "log_likelihood": _variational_cases(V.log_likelihood),
    "elbo": _variational_cases(V.elbo, with_q=True),
    "kl_to_posterior": _variational_cases(V.kl_to_posterior, with_q=True),
}
