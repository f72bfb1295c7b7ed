"""Temperature scaling: one scalar fitted on held-out validation logits (Guo et al., 2017).

Dividing logits by T > 1 softens over-confident probabilities without changing any
prediction, so the workflow's confidence threshold means what it says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    import numpy as np

    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    import numpy as np

    probs = softmax(logits, temperature)
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, *, low: float = 0.05, high: float = 20.0) -> float:
    """The T minimising validation negative log-likelihood (bounded 1-D search on log T)."""
    import math

    from scipy.optimize import minimize_scalar

    result = minimize_scalar(lambda log_t: nll(logits, labels, math.exp(log_t)),
                             bounds=(math.log(low), math.log(high)), method="bounded",
                             options={"xatol": 1e-4})
    return float(math.exp(result.x))
