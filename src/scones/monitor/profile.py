"""Model Monitor statistics of a set of inferences (a baseline run or a capture window).

Features: top confidence, each class probability, the predicted class, and the input
image's width, height, brightness, contrast, saturation and content type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from scones.monitor.features import (
    CONFIDENCE,
    CONTENT_TYPE,
    IMAGE_FEATURES,
    INTEGRAL_FEATURES,
    PREDICTED_CLASS,
    prob_feature,
)
from scones.monitor.scan import CaptureColumns
from scones.monitor.schema import FeatureStatistics, Statistics, numeric_statistics, string_statistics


def class_counts(columns: CaptureColumns, classes: Sequence[str]) -> Counter[str]:
    predicted = columns.predicted
    counts = np.bincount(predicted[predicted >= 0], minlength=len(classes))
    return Counter({classes[i]: int(c) for i, c in enumerate(counts) if c})


def profile(columns: CaptureColumns, classes: Sequence[str]) -> Statistics:
    features: list[FeatureStatistics] = [numeric_statistics(CONFIDENCE, columns.confidence)]
    for i, name in enumerate(classes):
        features.append(numeric_statistics(prob_feature(name), columns.probs[:, i]))
    counts = class_counts(columns, classes)
    features.append(string_statistics(PREDICTED_CLASS, counts, columns.count - sum(counts.values())))
    for i, name in enumerate(IMAGE_FEATURES):
        features.append(numeric_statistics(name, columns.images[:, i], integral=name in INTEGRAL_FEATURES))
    features.append(string_statistics(CONTENT_TYPE, columns.content_types,
                                      columns.count - sum(columns.content_types.values())))
    return Statistics(item_count=columns.count, features=tuple(features))
