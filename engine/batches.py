"""Which rows of the training set each update uses, and how many updates make an epoch."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray


def batches_per_epoch(n: int, size: int) -> int:
    """Updates per pass over n examples in batches of ``size`` (the last may be smaller)."""
    return math.ceil(n / size)


class Batches:
    """Mini-batch index sequence: in order (the article's MNIST) or reshuffled every epoch."""

    def __init__(self, n: int, size: int, shuffle: bool, rng: np.random.Generator) -> None:
        self.n, self.size, self.shuffle, self.rng = n, size, shuffle, rng
        self.per_epoch = batches_per_epoch(n, size)
        self._epoch = -1
        self._order: NDArray[np.intp] = np.arange(n)

    def indices(self, iteration: int) -> NDArray[np.intp] | slice:
        """Indices of the batch used by update ``iteration + 1`` (a slice when in order)."""
        epoch, k = divmod(iteration, self.per_epoch)
        if not self.shuffle:
            return slice(k * self.size, min((k + 1) * self.size, self.n))
        while self._epoch < epoch:  # epochs are visited in order, so one draw per epoch
            self._order = self.rng.permutation(self.n)
            self._epoch += 1
        return self._order[k * self.size : (k + 1) * self.size]
